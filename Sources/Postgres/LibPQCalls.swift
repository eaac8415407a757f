import CLibPQ
import Foundation
import Synchronization

// The blocking libpq calls a connection makes on its own thread, and the small C helpers they need.

/// Sends a statement and waits for all its results; blocking.
func sendAndCollect(
    _ pg: OpaquePointer, _ query: PostgresQuery, _ statements: PreparedStatements, _ cancellation: QueryCancellation
) throws -> ResultHandle? {
    var use = statements.use(query)
    if case .prepare(let name, _) = use {
        // Outside pipeline mode the preparation must be answered before the statement can be sent.
        do {
            try prepareBlocking(pg, query, name: name)
        } catch {
            statements.settle(use, prepared: false)
            throw error
        }
        use = .prepared(name: name)
    }
    guard send(pg, query, use) == 1 else { throw connectionError(pg, sql: query.sql) }
    cancellation.statementSent()
    var firstError: PostgresError?
    let last = collectResults(pg, sql: query.sql, firstError: &firstError) { status in
        PostgresError(.usage, "unsupported result status \(status.rawValue) (COPY is not supported here)", query: query.sql)
    }
    if let firstError { throw firstError }
    guard PQstatus(pg) == CONNECTION_OK else { throw connectionError(pg, sql: query.sql) }
    return last
}

/// Reads one statement's results until libpq has no more: returns the last with rows or a command status,
/// and keeps the first error in `firstError` (a server error, or what `unexpected` makes of another status).
private func collectResults(
    _ pg: OpaquePointer, sql: String, firstError: inout PostgresError?, unexpected: (ExecStatusType) -> PostgresError?
) -> ResultHandle? {
    var last: ResultHandle?
    while let result = PQgetResult(pg) {
        let status = PQresultStatus(result)
        switch status {
        case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            last = ResultHandle(result)
        case PGRES_FATAL_ERROR:
            if firstError == nil { firstError = serverError(result, pg: pg, sql: sql) }
            PQclear(result)
        default:
            if firstError == nil { firstError = unexpected(status) }
            PQclear(result)
        }
    }
    return last
}

/// Runs statements in pipeline mode with one sync point; blocking.
func runPipeline(
    _ pg: OpaquePointer, _ queries: [PostgresQuery], _ statements: PreparedStatements, _ cancellation: QueryCancellation
) throws -> [PostgresRows] {
    guard PQenterPipelineMode(pg) == 1 else {
        throw PostgresError(.usage, "cannot enter pipeline mode: \(String(cString: PQerrorMessage(pg)))")
    }
    defer { PQexitPipelineMode(pg) }
    // Non-blocking while sending, so a large batch cannot deadlock with the server writing results nobody
    // reads yet: libpq buffers the statements (writing what the socket takes once its buffer is large)
    // and one flush sends the rest, so a batch costs the server one wake-up, not one per statement.
    PQsetnonblocking(pg, 1)
    var sendError: PostgresError?
    var uses: [PreparedStatements.Use] = []
    for query in queries {
        let use = statements.use(query)
        uses.append(use)
        if send(pg, query, use) != 1 {
            sendError = connectionError(pg, sql: query.sql)
            break
        }
    }
    if sendError == nil, PQpipelineSync(pg) != 1 { sendError = connectionError(pg, sql: "<pipeline sync>") }
    do {
        try flushPending(pg)
    } catch {
        sendError = sendError ?? (error as? PostgresError)
    }
    PQsetnonblocking(pg, 0)
    if let sendError {
        for use in uses { statements.settle(use, prepared: false) }
        throw sendError
    }
    cancellation.statementSent()

    var rows: [PostgresRows] = []
    var firstError: PostgresError?
    for (query, use) in zip(queries, uses) {
        if case .prepare = use {
            var prepareError: PostgresError?
            let prepared = collectResults(pg, sql: query.sql, firstError: &prepareError) { _ in nil }
            statements.settle(use, prepared: prepared != nil && prepareError == nil)
            if firstError == nil { firstError = prepareError }
        }
        // PGRES_PIPELINE_ABORTED (an earlier statement failed) adds no error of its own.
        let last = collectResults(pg, sql: query.sql, firstError: &firstError) { _ in nil }
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
func withParameters<R>(
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

/// Runs a command on a handle being set up (session settings, LISTEN); on failure the handle is finished
/// and the server's error thrown. Blocking.
func executeOrFinish(_ pg: OpaquePointer, _ sql: String) throws {
    let result = PQexec(pg, sql)
    defer { PQclear(result) }
    guard PQresultStatus(result) == PGRES_COMMAND_OK else {
        let error = serverError(result, pg: pg, sql: sql)
        PQfinish(pg)
        throw error
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
    defer { for string in duplicated { free(string) } }
    let pointers: [UnsafePointer<CChar>?] = duplicated.map { $0.map { UnsafePointer($0) } } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
