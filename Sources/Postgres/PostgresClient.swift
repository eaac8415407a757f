import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A pool of connections shared by many tasks.
///
/// Connections open lazily up to `maxConnections`. A caller waiting longer than
/// `acquireTimeout` gets a `.poolTimeout` error. Connections that broke (the
/// server restarted, the network dropped) are noticed when they come back to the
/// pool or before they are handed out, and replaced by fresh ones, so callers
/// recover without doing anything once the server is back.
///
/// As a `Service` in a `ServiceGroup`, it closes when the group shuts down gracefully, after the
/// services that use it (list it before them: a group stops its services in reverse order).
public final class PostgresClient: Service, Sendable {
    public struct Configuration: Sendable {
        public var connection: PostgresConfiguration
        public var maxConnections: Int
        public var acquireTimeout: Duration
        /// A connection idle longer than this is checked with a round trip before reuse.
        public var idleCheckInterval: Duration

        public init(
            connection: PostgresConfiguration, maxConnections: Int = 10, acquireTimeout: Duration = .seconds(10),
            idleCheckInterval: Duration = .seconds(30)
        ) {
            self.connection = connection
            self.maxConnections = max(1, maxConnections)
            self.acquireTimeout = acquireTimeout
            self.idleCheckInterval = idleCheckInterval
        }
    }

    /// How long the current task may wait for a connection, when shorter than `acquireTimeout`: load
    /// shedding (the API bounds each request's wait with it). A wait past it fails with
    /// `.admissionTimeout`, and nothing was run. Work that must finish once started (a commit others share)
    /// clears it.
    @TaskLocal public static var admissionBound: Duration?

    private enum Lease {
        case connection(PostgresConnection)
        /// Permission to open a new connection (one was discarded).
        case slot
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Lease, any Error>
        /// Fails the waiter after `acquireTimeout`; cancelled once it is served.
        var timeout: Task<Void, Never>?

        func resume(with result: Result<Lease, any Error>) {
            timeout?.cancel()
            continuation.resume(with: result)
        }
    }

    private struct State {
        var idle: [(connection: PostgresConnection, since: ContinuousClock.Instant)] = []
        var open = 0
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var closed = false
    }

    public let configuration: Configuration
    public let logger: Logger
    private let state = Mutex(State())

    public init(configuration: Configuration, logger: Logger = Logger(label: "postgres")) {
        self.configuration = configuration
        self.logger = logger
    }

    public convenience init(url: String, maxConnections: Int = 10, logger: Logger = Logger(label: "postgres")) {
        self.init(configuration: Configuration(connection: PostgresConfiguration(url: url), maxConnections: maxConnections), logger: logger)
    }

    /// Connections currently open (idle or leased).
    public var openConnections: Int { state.withLock { $0.open } }

    // MARK: - Using connections

    /// Leases a connection for the duration of `body`. Unless the caller is
    /// isolated to an actor, `body` runs on the connection's own thread, so its
    /// statements cost no thread hops.
    public func withConnection<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await acquire()
        do {
            let value = try await withTaskExecutorPreference(connection.taskExecutor) {
                try await connection.applyContext(PostgresContext.settings)
                return try await body(connection)
            }
            await release(connection)
            return value
        } catch {
            await release(connection)
            throw error
        }
    }

    /// Runs `body` in a transaction on one leased connection; see `PostgresConnection.withTransaction`.
    public func withTransaction<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await withConnection { connection in
            try await connection.withTransaction { try await body($0) }
        }
    }

    @discardableResult
    public func query(_ query: PostgresQuery) async throws -> PostgresRows {
        try await withConnection { try await $0.query(query) }
    }

    @discardableResult
    public func execute(_ query: PostgresQuery) async throws -> Int {
        try await withConnection { try await $0.execute(query) }
    }

    public func pipeline(_ queries: [PostgresQuery]) async throws -> [PostgresRows] {
        try await withConnection { try await $0.pipeline(queries) }
    }

    /// Sends a notification on `channel` (`pg_notify`).
    public func notify(_ channel: String, payload: String = "") async throws {
        try await execute("SELECT pg_notify(\(channel), \(payload))")
    }

    /// Listens on the channels with a dedicated connection (not from the pool).
    /// Returns once `LISTEN` is active, so no notification sent afterwards is missed.
    public func listen(_ channels: [String]) async throws -> PostgresNotifications {
        try await PostgresNotifications.start(configuration.connection, channels: channels, logger: logger)
    }

    public func listen(_ channel: String) async throws -> PostgresNotifications {
        try await listen([channel])
    }

    /// Keeps the pool open until the service group shuts down gracefully (or is cancelled), then closes it.
    public func run() async throws {
        try? await gracefulShutdown()
        close()
    }

    /// Closes idle connections and fails waiting callers; leased ones close when they return.
    public func close() {
        let (idle, waiters) = state.withLock { state in
            state.closed = true
            defer {
                state.open -= state.idle.count
                state.idle = []
                state.waiters = []
            }
            return (state.idle.map(\.connection), state.waiters)
        }
        for connection in idle { connection.close() }
        for waiter in waiters { waiter.resume(with: .failure(PostgresError(.poolClosed, "the connection pool is closed"))) }
    }

    // MARK: - Leasing

    private enum Decision {
        case reuse(PostgresConnection, ContinuousClock.Instant)
        case open
        case wait
        case closed
    }

    func acquire() async throws -> PostgresConnection {
        while true {
            try Task.checkCancellation()
            let decision = state.withLock { state -> Decision in
                if state.closed { return .closed }
                if let (connection, since) = state.idle.popLast() { return .reuse(connection, since) }
                if state.open < configuration.maxConnections {
                    state.open += 1
                    return .open
                }
                return .wait
            }
            switch decision {
            case .closed:
                throw PostgresError(.poolClosed, "the connection pool is closed")
            case .reuse(let connection, let since):
                if let ready = await validate(connection, idleSince: since) { return ready }
            case .open:
                return try await openConnection()
            case .wait:
                switch try await waitForLease() {
                case .connection(let connection):
                    if let ready = await validate(connection, idleSince: .now) { return ready }
                case .slot:
                    return try await openConnection()
                }
            }
        }
    }

    /// Returns the connection if usable, otherwise discards it (freeing its slot) and returns nil.
    private func validate(_ connection: PostgresConnection, idleSince: ContinuousClock.Instant) async -> PostgresConnection? {
        var alive = connection.isAliveWhileIdle()
        if alive, idleSince.duration(to: .now) > configuration.idleCheckInterval {
            alive = (try? await connection.run("SELECT 1", cancellable: false)) != nil
        }
        if alive { return connection }
        logger.info("discarding a broken database connection", metadata: ["pg_backend": "\(connection.backendPID)"])
        discard(connection)
        return nil
    }

    private func openConnection() async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(configuration.connection, logger: logger)
        } catch {
            freeSlot()
            throw error
        }
    }

    private func waitForLease() async throws -> Lease {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let bound = Self.admissionBound.flatMap { $0 < configuration.acquireTimeout ? $0 : nil }
        let timeout = bound ?? configuration.acquireTimeout
        let maxConnections = configuration.maxConnections
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                let registered = state.withLock { state -> Bool in
                    guard !state.closed else { return false }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return true
                }
                guard registered else {
                    continuation.resume(throwing: PostgresError(.poolClosed, "the connection pool is closed"))
                    return
                }
                let timer = Task { [weak self] in
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    self?.failWaiter(
                        id,
                        with: bound == nil
                            ? PostgresError(
                                .poolTimeout,
                                "no database connection became free within \(timeout) (all \(maxConnections) in use); "
                                    + "raise the pool size or shorten transactions")
                            : PostgresError(
                                .admissionTimeout, "no database connection became free within the admission bound of \(timeout); nothing was run"))
                }
                // Served already (between registering and here)? Then the timer has nothing left to do.
                let served = state.withLock { state -> Bool in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return true }
                    state.waiters[index].timeout = timer
                    return false
                }
                if served { timer.cancel() }
            }
        } onCancel: {
            failWaiter(id, with: CancellationError())
        }
    }

    private func failWaiter(_ id: UInt64, with error: any Error) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.resume(with: .failure(error))
    }

    func release(_ connection: PostgresConnection) async {
        guard await connection.resetForReuse() else {
            discard(connection)
            return
        }
        let (waiter, closeIt) = state.withLock { state -> (Waiter?, Bool) in
            if state.closed {
                state.open -= 1
                return (nil, true)
            }
            if !state.waiters.isEmpty { return (state.waiters.removeFirst(), false) }
            state.idle.append((connection, .now))
            return (nil, false)
        }
        if closeIt { connection.close() }
        waiter?.resume(with: .success(.connection(connection)))
    }

    private func discard(_ connection: PostgresConnection) {
        connection.close()
        freeSlot()
    }

    /// A connection went away: hand its slot to a waiter, or shrink the pool.
    private func freeSlot() {
        let waiter = state.withLock { state -> Waiter? in
            if !state.closed, !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.open -= 1
            return nil
        }
        waiter?.resume(with: .success(.slot))
    }
}

/// Session settings that follow the task: every connection a task leases from a pool carries them
/// (`set_config(name, value, false)`, applied when the lease starts, and reset on the next lease that
/// does not want them), so row-level security policies can read who is asking with `current_setting`.
/// A connection that already carries them costs no round trip.
public enum PostgresContext {
    @TaskLocal public static var settings: [String: String] = [:]
}
