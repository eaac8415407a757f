import CLibPQ
import Foundation
import Logging
import Synchronization

/// One libpq connection.
///
/// Every blocking libpq call runs on the connection's own thread (a
/// `TaskExecutor`), never on Swift's cooperative pool. A connection runs one
/// statement at a time: use a `PostgresClient` to share connections between tasks.
public final class PostgresConnection: @unchecked Sendable {
    // `pg` is only touched on the executor's thread, or by the pool while no task holds the connection.
    private let handle: SendablePointer
    private var pg: OpaquePointer { handle.pointer }
    private let cancelHandle: OpaquePointer?
    private let executor: ConnectionExecutor
    private let state = Mutex(State())
    public let logger: Logger
    /// The server process id serving this connection (for `pg_terminate_backend` and logs).
    public let backendPID: Int32

    struct State {
        var transactionDepth = 0
        var isClosed = false
        var isBroken = false
    }

    private init(pg: OpaquePointer, executor: ConnectionExecutor, logger: Logger) {
        self.handle = SendablePointer(pg)
        self.executor = executor
        self.cancelHandle = PQgetCancel(pg)
        self.backendPID = PQbackendPID(pg)
        var logger = logger
        logger[metadataKey: "pg_backend"] = "\(backendPID)"
        self.logger = logger
    }

    deinit {
        if let cancelHandle { PQfreeCancel(cancelHandle) }
        PQfinish(pg)
        executor.shutdown()
    }

    /// The connection's own thread. Code run with this executor preferred
    /// (`withTaskExecutorPreference`) issues statements without a thread hop.
    public var taskExecutor: any TaskExecutor { executor }

    /// Opens a connection, applying the session settings this module relies on.
    public static func connect(
        _ configuration: PostgresConfiguration, logger: Logger = Logger(label: "postgres")
    ) async throws -> PostgresConnection {
        let executor = ConnectionExecutor(name: "postgres-connection")
        do {
            let pg = try await withTaskExecutorPreference(executor) { SendablePointer(try openBlocking(configuration)) }
            return PostgresConnection(pg: pg.pointer, executor: executor, logger: logger)
        } catch {
            executor.shutdown()
            throw error
        }
    }

    /// Connects and prepares a raw handle; blocking. Used by connections and listeners.
    static func openBlocking(_ configuration: PostgresConfiguration) throws -> OpaquePointer {
        let timeout = max(1, Int(configuration.connectTimeout.components.seconds))
        let keywords = ["dbname", "application_name", "connect_timeout"]
        let values = [configuration.url, configuration.applicationName, String(timeout)]
        let pg = withCStrings(keywords) { keywordPointers in
            withCStrings(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let pg else { throw PostgresError(.connection, "out of memory opening a connection") }
        guard PQstatus(pg) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(pg)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(pg)
            throw PostgresError(.connection, "cannot connect to \(configuration.redactedURL): \(message)")
        }
        // Server notices ("relation already exists, skipping") would otherwise go to stderr unstructured.
        PQsetNoticeProcessor(pg, { _, _ in }, nil)
        // Dates are parsed from ISO text; other settings come from the caller.
        var settings = configuration.sessionSettings
        if let dateStyle = PQparameterStatus(pg, "DateStyle"), !String(cString: dateStyle).hasPrefix("ISO") {
            settings["DateStyle"] = "ISO"
        }
        if !settings.isEmpty {
            let sql = settings.sorted { $0.key < $1.key }
                .map { "SET \(quoteIdentifier($0.key)) = \(quoteLiteral($0.value))" }
                .joined(separator: "; ")
            let result = PQexec(pg, sql)
            defer { PQclear(result) }
            guard PQresultStatus(result) == PGRES_COMMAND_OK else {
                let error = serverError(result, pg: pg, sql: sql)
                PQfinish(pg)
                throw error
            }
        }
        return pg
    }

    // MARK: - Running statements

    /// Runs one statement and returns its rows. Cancelling the calling task cancels the statement on the server.
    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await run(query, cancellable: true)
    }

    /// Runs one statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await run(query, cancellable: true).affectedRows
    }

    /// Runs a script of several statements with the simple query protocol (no parameters).
    public func executeScript(_ sql: String) async throws {
        try Task.checkCancellation()
        try checkUsable()
        try await onQueue { [handle] in
            let pg = handle.pointer
            let result = PQexec(pg, sql)
            defer { PQclear(result) }
            let status = PQresultStatus(result)
            guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY else {
                throw serverError(result, pg: pg, sql: sql)
            }
        }
    }

    /// Sends all statements in one round trip (libpq pipeline mode) and returns their rows in order.
    ///
    /// Outside an explicit transaction the statements form one implicit
    /// transaction: if any fails, none take effect and the first error is thrown.
    public func pipeline(_ queries: [PostgresQuery]) async throws -> [PostgresRows] {
        if queries.isEmpty { return [] }
        try Task.checkCancellation()
        try checkUsable()
        for query in queries { try validate(query) }
        let cancellation = QueryCancellation(cancelHandle)
        do {
            return try await withTaskCancellationHandler {
                try await onQueue { [handle] in
                    defer { cancellation.end() }
                    return try runPipeline(handle.pointer, queries, cancellation)
                }
            } onCancel: {
                cancellation.cancel()
            }
        } catch let error as PostgresError {
            throw translate(error, cancellation: cancellation)
        }
    }

    func run(_ query: PostgresQuery, cancellable: Bool) async throws -> PostgresRows {
        if cancellable { try Task.checkCancellation() }
        try checkUsable()
        try validate(query)
        let cancellation = QueryCancellation(cancelHandle)
        do {
            return try await withTaskCancellationHandler {
                try await onQueue { [handle] in
                    defer { cancellation.end() }
                    return PostgresRows(handle: try sendAndCollect(handle.pointer, query, cancellation))
                }
            } onCancel: {
                if cancellable { cancellation.cancel() }
            }
        } catch let error as PostgresError {
            throw translate(error, cancellation: cancellation)
        }
    }

    private func translate(_ error: PostgresError, cancellation: QueryCancellation) -> any Error {
        if error.isConnectionFailure || PQstatus(pg) != CONNECTION_OK {
            state.withLock { $0.isBroken = true }
        }
        if error.sqlState == SQLState.queryCanceled, cancellation.wasCancelled { return CancellationError() }
        return error
    }

    private func validate(_ query: PostgresQuery) throws {
        for case .text(var text) in query.parameters where text.withUTF8({ bytes in bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false }) {
            throw PostgresError(.usage, "a text parameter contains a NUL byte, which PostgreSQL text cannot hold", query: query.sql)
        }
    }

    private func checkUsable() throws {
        let state = state.withLock { $0 }
        if state.isClosed { throw PostgresError(.connection, "the connection is closed") }
        if state.isBroken { throw PostgresError(.connection, "the connection was lost") }
    }

    /// Runs a blocking libpq call on the connection's thread: inline when already there, else with a hop.
    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        if executor.isCurrent { return try body() }
        return try await withTaskExecutorPreference(executor) { try body() }
    }

    // MARK: - Transactions

    /// Runs `body` in a transaction: committed when it returns, rolled back when it
    /// throws or the task is cancelled. Nested calls use savepoints.
    public func withTransaction<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let depth = state.withLock { state -> Int in
            state.transactionDepth += 1
            return state.transactionDepth
        }
        defer { state.withLock { $0.transactionDepth -= 1 } }
        let savepoint = "tx_savepoint_\(depth)"
        _ = try await run(depth == 1 ? "BEGIN" : PostgresQuery(unsafeSQL: "SAVEPOINT \(savepoint)"), cancellable: true)
        do {
            let value = try await body(self)
            try Task.checkCancellation()
            _ = try await run(depth == 1 ? "COMMIT" : PostgresQuery(unsafeSQL: "RELEASE SAVEPOINT \(savepoint)"), cancellable: false)
            return value
        } catch {
            if !isBroken {
                // Runs even when the task was cancelled: the transaction must not stay open.
                let rollback = depth == 1 ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT \(savepoint); RELEASE SAVEPOINT \(savepoint)"
                _ = try? await onQueue { [handle] in PQclear(PQexec(handle.pointer, rollback)) }
            }
            throw error
        }
    }

    // MARK: - State

    /// True once the connection failed; a broken connection is never reused.
    public var isBroken: Bool {
        state.withLock { $0.isBroken || $0.isClosed } || PQstatus(pg) != CONNECTION_OK
    }

    /// Checks an idle connection without a round trip: reads whatever the server
    /// sent while idle (a shutdown notice after a restart) and reports whether it is still usable.
    /// Only call while no statement runs on the connection.
    func isAliveWhileIdle() -> Bool {
        guard !isBroken else { return false }
        guard PQconsumeInput(pg) == 1, PQstatus(pg) == CONNECTION_OK else {
            state.withLock { $0.isBroken = true }
            return false
        }
        // Drop notifications queued on a pooled connection; listeners use their own.
        while let notification = PQnotifies(pg) { PQfreemem(notification) }
        return true
    }

    /// Whether the server considers a transaction open on this connection.
    var isIdleOutsideTransaction: Bool { PQtransactionStatus(pg) == PQTRANS_IDLE }

    /// Rolls back whatever a caller left open, before the connection is reused.
    func resetForReuse() async -> Bool {
        guard !isBroken else { return false }
        if isIdleOutsideTransaction { return true }
        guard PQtransactionStatus(pg) != PQTRANS_ACTIVE else { return false }
        _ = try? await run("ROLLBACK", cancellable: false)
        return !isBroken && isIdleOutsideTransaction
    }

    /// Closes the connection. Further calls throw.
    public func close() {
        state.withLock { $0.isClosed = true }
    }
}

/// Sends a statement and waits for all its results; blocking.
private func sendAndCollect(_ pg: OpaquePointer, _ query: PostgresQuery, _ cancellation: QueryCancellation) throws -> ResultHandle? {
    let sent = withParameters(query) { count, types, values, lengths, formats in
        PQsendQueryParams(pg, query.sql, count, types, values, lengths, formats, 0)
    }
    guard sent == 1 else { throw connectionError(pg, sql: query.sql) }
    cancellation.statementSent()
    var last: ResultHandle?
    var firstError: PostgresError?
    while let result = PQgetResult(pg) {
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            last = ResultHandle(result)
        case PGRES_FATAL_ERROR:
            if firstError == nil { firstError = serverError(result, pg: pg, sql: query.sql) }
            PQclear(result)
        default:
            if firstError == nil {
                firstError = PostgresError(.usage, "unsupported result status \(PQresultStatus(result).rawValue) (COPY is not supported here)", query: query.sql)
            }
            PQclear(result)
        }
    }
    if let firstError { throw firstError }
    guard PQstatus(pg) == CONNECTION_OK else { throw connectionError(pg, sql: query.sql) }
    return last
}

/// Runs statements in pipeline mode with one sync point; blocking.
private func runPipeline(_ pg: OpaquePointer, _ queries: [PostgresQuery], _ cancellation: QueryCancellation) throws -> [PostgresRows] {
    guard PQenterPipelineMode(pg) == 1 else {
        throw PostgresError(.usage, "cannot enter pipeline mode: \(String(cString: PQerrorMessage(pg)))")
    }
    defer { PQexitPipelineMode(pg) }
    // Non-blocking while sending, so a large batch cannot deadlock with the
    // server writing results nobody reads yet.
    PQsetnonblocking(pg, 1)
    var sendError: PostgresError?
    for query in queries {
        let sent = withParameters(query) { count, types, values, lengths, formats in
            PQsendQueryParams(pg, query.sql, count, types, values, lengths, formats, 0)
        }
        if sent != 1 {
            sendError = connectionError(pg, sql: query.sql)
            break
        }
        try flushPending(pg)
    }
    if sendError == nil, PQpipelineSync(pg) != 1 { sendError = connectionError(pg, sql: "<pipeline sync>") }
    try flushPending(pg)
    PQsetnonblocking(pg, 0)
    if let sendError { throw sendError }
    cancellation.statementSent()

    var rows: [PostgresRows] = []
    var firstError: PostgresError?
    for query in queries {
        var last: ResultHandle?
        while let result = PQgetResult(pg) {
            switch PQresultStatus(result) {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                last = ResultHandle(result)
            case PGRES_FATAL_ERROR:
                if firstError == nil { firstError = serverError(result, pg: pg, sql: query.sql) }
                PQclear(result)
            default:  // PGRES_PIPELINE_ABORTED: an earlier statement failed
                PQclear(result)
            }
        }
        guard PQstatus(pg) == CONNECTION_OK else { throw connectionError(pg, sql: query.sql) }
        rows.append(PostgresRows(handle: last))
    }
    // The sync point's own result.
    while let result = PQgetResult(pg) {
        let status = PQresultStatus(result)
        PQclear(result)
        if status == PGRES_PIPELINE_SYNC { break }
    }
    if let firstError { throw firstError }
    return rows
}

private func flushPending(_ pg: OpaquePointer) throws {
    while true {
        let status = PQflush(pg)
        if status == 0 { return }
        if status < 0 { throw connectionError(pg, sql: "<pipeline flush>") }
        var descriptor = pollfd(fd: PQsocket(pg), events: Int16(POLLIN | POLLOUT), revents: 0)
        _ = poll(&descriptor, 1, 1000)
        if descriptor.revents & Int16(POLLIN) != 0, PQconsumeInput(pg) == 0 {
            throw connectionError(pg, sql: "<pipeline read>")
        }
    }
}

/// Marshals parameters into the C arrays `PQsendQueryParams` takes.
private func withParameters<R>(
    _ query: PostgresQuery,
    _ body: (Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> R
) -> R {
    var storage: [UInt8] = [0]  // never empty, so the base address is never nil
    var offsets: [Int?] = []
    var lengths: [Int32] = []
    var formats: [Int32] = []
    for parameter in query.parameters {
        switch parameter {
        case .null:
            offsets.append(nil)
            lengths.append(0)
            formats.append(0)
        case .text(let text):
            offsets.append(storage.count)
            storage.append(contentsOf: text.utf8)
            storage.append(0)
            lengths.append(Int32(text.utf8.count))
            formats.append(0)
        case .binary(let bytes):
            offsets.append(storage.count)
            storage.append(contentsOf: bytes)
            lengths.append(Int32(bytes.count))
            formats.append(1)
        }
    }
    let types = query.parameterTypes.map { Oid($0.rawValue) }
    return storage.withUnsafeBufferPointer { buffer in
        let base = UnsafeRawPointer(buffer.baseAddress!)
        let values: [UnsafePointer<CChar>?] = offsets.map { offset in
            offset.map { (base + $0).assumingMemoryBound(to: CChar.self) }
        }
        return body(Int32(offsets.count), types, values, lengths, formats)
    }
}

func serverError(_ result: OpaquePointer?, pg: OpaquePointer, sql: String) -> PostgresError {
    func field(_ code: Character) -> String? {
        guard let result, let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
        return String(cString: value)
    }
    let sqlState = field("C")
    let message = field("M") ?? String(cString: PQerrorMessage(pg)).trimmingCharacters(in: .whitespacesAndNewlines)
    let lost = sqlState == nil && PQstatus(pg) != CONNECTION_OK
    return PostgresError(
        lost ? .connection : .server, message, sqlState: sqlState, detail: field("D"), hint: field("H"),
        constraint: field("n"), table: field("t"), column: field("c"), query: sql)
}

func connectionError(_ pg: OpaquePointer, sql: String) -> PostgresError {
    let message = String(cString: PQerrorMessage(pg)).trimmingCharacters(in: .whitespacesAndNewlines)
    return PostgresError(.connection, message.isEmpty ? "the connection was lost" : message, query: sql)
}

/// Quotes a string literal for the few statements that cannot take parameters (SET, LISTEN).
func quoteLiteral(_ value: String) -> String {
    "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
}

/// Coordinates `PQcancel` with the statement it targets, so a cancel never hits the next statement.
final class QueryCancellation: Sendable {
    private struct State {
        var inFlight = false
        var cancelled = false
    }
    private let state = Mutex(State())
    private let handle: SendablePointer?

    init(_ handle: OpaquePointer?) { self.handle = handle.map(SendablePointer.init) }

    var wasCancelled: Bool { state.withLock { $0.cancelled } }

    /// Called once the statement is on its way to the server: from now on a cancel request reaches it.
    func statementSent() {
        let cancelNow = state.withLock { state -> Bool in
            state.inFlight = true
            return state.cancelled
        }
        if cancelNow { cancel() }
    }

    func end() { state.withLock { $0.inFlight = false } }

    func cancel() {
        state.withLock { state in
            state.cancelled = true
            // Holding the lock keeps `end()` (and so the next statement) waiting until the cancel request went out.
            guard state.inFlight, let handle else { return }
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(handle.pointer, &buffer, Int32(buffer.count))
        }
    }
}

/// A C handle crossing threads; only for handles used under the rules above.
struct SendablePointer: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let duplicated = strings.map { strdup($0) }
    defer { duplicated.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = duplicated.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
