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
    // Statements touch the handle only on the executor's thread; other reads go through `handle.ifOpen`.
    private let handle: LibPQHandle
    private let executor: ConnectionExecutor
    private let state = Mutex(State())
    public let logger: Logger
    /// The server process id serving this connection (for `pg_terminate_backend` and logs).
    public let backendPID: Int32

    struct State {
        var transactionDepth = 0
        var isClosed = false
        var isBroken = false
        /// The `PostgresContext.settings` last applied to the session (values "" for reset ones).
        var context: [String: String] = [:]
    }

    /// Brings the session's context settings to `wanted` in one round trip, when they differ: each name
    /// set with `set_config(name, value, false)`, and names set before but not wanted now reset to "".
    func applyContext(_ wanted: [String: String]) async throws {
        let current = state.withLock { $0.context }
        var next = wanted
        for name in current.keys where wanted[name] == nil { next[name] = "" }
        if next.filter({ !$0.value.isEmpty }) == current.filter({ !$0.value.isEmpty }) { return }
        var query: PostgresQuery = "SELECT true"
        for (name, value) in next.sorted(by: { $0.key < $1.key }) {
            query = "\(fragment: query), set_config(\(name), \(value), false)"
        }
        _ = try await self.query(query)
        state.withLock { $0.context = next }
    }

    private init(pg: OpaquePointer, executor: ConnectionExecutor, logger: Logger) {
        self.handle = LibPQHandle(pg)
        self.executor = executor
        self.backendPID = PQbackendPID(pg)
        var logger = logger
        logger[metadataKey: "pg_backend"] = "\(backendPID)"
        self.logger = logger
    }

    deinit {
        // The handle finishes when its last holder lets go: here, or after a `close()` queued on the thread.
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
            try executeOrFinish(pg, sql)
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
            let pg = handle.pg
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
        let cancellation = QueryCancellation(handle.cancel)
        do {
            return try await withTaskCancellationHandler {
                try await onQueue { [handle] in
                    defer { cancellation.end() }
                    return try runPipeline(handle.pg, queries, handle.statements, cancellation)
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
        let cancellation = QueryCancellation(handle.cancel)
        do {
            return try await withTaskCancellationHandler {
                try await onQueue { [handle] in
                    defer { cancellation.end() }
                    return PostgresRows(handle: try sendAndCollect(handle.pg, query, handle.statements, cancellation))
                }
            } onCancel: {
                if cancellable { cancellation.cancel() }
            }
        } catch let error as PostgresError {
            throw translate(error, cancellation: cancellation)
        }
    }

    private func translate(_ error: PostgresError, cancellation: QueryCancellation) -> any Error {
        // A prepared statement whose result columns a migration changed fails on every run, so the connection
        // goes, and with it the statement: the next connection prepares it afresh.
        if error.isConnectionFailure || error.sqlState == SQLState.featureNotSupported && error.message.hasPrefix("cached plan")
            || handle.ifOpen({ PQstatus($0) != CONNECTION_OK }) ?? true
        {
            state.withLock { $0.isBroken = true }
        }
        if error.sqlState == SQLState.queryCanceled, cancellation.wasCancelled { return CancellationError() }
        return error
    }

    private func validate(_ query: PostgresQuery) throws {
        for case .text(var text) in query.parameters
        where text.withUTF8({ bytes in bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false }) {
            throw PostgresError(.usage, "a text parameter contains a NUL byte, which PostgreSQL text cannot hold", query: query.sql)
        }
    }

    private func checkUsable() throws {
        let state = state.withLock { $0 }
        if state.isClosed { throw PostgresError(.connection, "the connection is closed") }
        if state.isBroken { throw PostgresError(.connection, "the connection was lost") }
    }

    /// Runs a blocking libpq call on the connection's thread: inline when already there, else with a hop.
    /// A call that reaches the thread after `close()` finished the handle throws instead of touching it.
    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let guarded: @Sendable () throws -> T = { [handle] in
            guard !handle.isFinished else { throw PostgresError(.connection, "the connection is closed") }
            return try body()
        }
        if executor.isCurrent { return try guarded() }
        return try await withTaskExecutorPreference(executor) { try guarded() }
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
                do {
                    try await onQueue { [handle] in
                        let result = PQexec(handle.pg, rollback)
                        defer { PQclear(result) }
                        guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw serverError(result, pg: handle.pg, sql: rollback) }
                    }
                } catch let rollbackError {
                    // The caller gets its own error; this one says why the connection will not be reused.
                    logger.warning("rollback failed", metadata: ["error": "\(rollbackError)", "cause": "\(error)"])
                }
            }
            throw error
        }
    }

    // MARK: - State

    /// True once the connection failed; a broken connection is never reused.
    public var isBroken: Bool {
        state.withLock { $0.isBroken || $0.isClosed } || handle.ifOpen({ PQstatus($0) != CONNECTION_OK }) ?? true
    }

    /// Checks an idle connection without a round trip: reads whatever the server
    /// sent while idle (a shutdown notice after a restart) and reports whether it is still usable.
    /// Only call while no statement runs on the connection.
    func isAliveWhileIdle() -> Bool {
        guard !isBroken else { return false }
        let alive = handle.ifOpen { pg -> Bool in
            guard PQconsumeInput(pg) == 1, PQstatus(pg) == CONNECTION_OK else { return false }
            // Drop notifications queued on a pooled connection; listeners use their own.
            while let notification = PQnotifies(pg) { PQfreemem(notification) }
            return true
        }
        if alive != true { state.withLock { $0.isBroken = true } }
        return alive == true
    }

    /// Whether the server considers a transaction open on this connection.
    var isIdleOutsideTransaction: Bool { handle.ifOpen { PQtransactionStatus($0) == PQTRANS_IDLE } ?? false }

    /// Rolls back whatever a caller left open, before the connection is reused.
    func resetForReuse() async -> Bool {
        guard !isBroken else { return false }
        if isIdleOutsideTransaction { return true }
        guard handle.ifOpen({ PQtransactionStatus($0) != PQTRANS_ACTIVE }) == true else { return false }
        _ = try? await run("ROLLBACK", cancellable: false)
        return !isBroken && isIdleOutsideTransaction
    }

    /// Closes the connection: the session ends (and with it its advisory locks and LISTENs) as soon as a
    /// statement running now returns, not whenever this object happens to be freed. Further calls throw.
    public func close() {
        let first = state.withLock { state -> Bool in
            defer { state.isClosed = true }
            return !state.isClosed
        }
        guard first else { return }
        executor.submit { [handle] in handle.finish() }
    }
}

/// The libpq connection and its cancel handle, freed exactly once: by `close()` on the connection's thread,
/// or when the last holder lets go. Reads from other threads go through `ifOpen`, which the finish waits for.
final class LibPQHandle: @unchecked Sendable {
    let pg: OpaquePointer
    let cancel: OpaquePointer?
    /// Used only on the connection's thread, like `pg`.
    let statements = PreparedStatements()
    private let finished = Mutex(false)

    init(_ pg: OpaquePointer) {
        self.pg = pg
        self.cancel = PQgetCancel(pg)
    }

    deinit { finish() }

    var isFinished: Bool { finished.withLock { $0 } }

    /// `body` on the handle, unless it was finished; holds off `finish` meanwhile.
    func ifOpen<T: Sendable>(_ body: (OpaquePointer) -> T) -> T? {
        finished.withLock { finished in finished ? nil : body(pg) }
    }

    func finish() {
        let first = finished.withLock { finished -> Bool in
            defer { finished = true }
            return !finished
        }
        guard first else { return }
        if let cancel { PQfreeCancel(cancel) }
        PQfinish(pg)
    }
}
