import Foundation
import Logging
import Postgres
import Synchronization

/// A session advisory lock that keeps one instance of a service active per database schema (the relay,
/// the deadline engine); standbys retry until the holder's session ends.
public enum ServiceLock: Int32, Sendable {
    /// "twrl"
    case relay = 0x7477_726C
    /// "twdl"
    case deadlines = 0x7477_646C

    /// The channel whose NOTIFYs tell the holder there is work: a committed outbox row, a clock started or moved.
    public var channel: String {
        switch self {
        case .relay: OutboxStore.channel
        case .deadlines: DeadlineStore.channel
        }
    }

    /// Takes the lock for this session; false when another session holds it. The second key is the
    /// schema's hash, so installations in different schemas of one database (and parallel tests) do
    /// not block each other.
    func tryLock(on connection: PostgresConnection) async throws -> Bool {
        try await connection.query("SELECT pg_try_advisory_lock(\(rawValue), hashtext(current_schema()))")[0].decode(column: 0, as: Bool.self)
    }

    /// Sessions holding the lock in the current schema: 1 while an instance is active, 0 otherwise.
    public func holders(on client: PostgresClient) async throws -> Int {
        try await client.query(
            """
            SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = \(rawValue)::oid
              AND objid = hashtext(current_schema())::oid AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """)[0].decode(column: 0, as: Int.self)
    }
}

/// The database side of a single active worker: a connection of its own, outside the pool, holding a
/// `ServiceLock`, and a listener on the lock's channel.
///
/// Closing it ends the session, and with it the lock, at once: a pooled connection can never go back to
/// the pool still holding the lock, and a standby takes over as soon as the holder stops or dies.
public final class WorkerSession: Sendable {
    let connection: PostgresConnection
    private let database: TipwireDatabase
    private let lock: ServiceLock
    private let listening = Mutex<(notifications: PostgresNotifications, task: Task<Void, Never>)?>(nil)

    private init(connection: PostgresConnection, database: TipwireDatabase, lock: ServiceLock) {
        self.connection = connection
        self.database = database
        self.lock = lock
    }

    /// Opens a connection and takes `lock` on it; nil when another session holds the lock.
    public static func open(holding lock: ServiceLock, in database: TipwireDatabase, logger: Logger) async throws -> WorkerSession? {
        let connection = try await PostgresConnection.connect(database.client.configuration.connection, logger: logger)
        do {
            let taken = try await withTaskExecutorPreference(connection.taskExecutor) { try await lock.tryLock(on: connection) }
            guard taken else {
                connection.close()
                return nil
            }
        } catch {
            connection.close()
            throw error
        }
        return WorkerSession(connection: connection, database: database, lock: lock)
    }

    /// Calls `ring` on every NOTIFY on the lock's channel, and after the listener reconnects (notifications
    /// may have been missed), until the session closes. Returns once listening, so nothing sent later is missed.
    public func onNotification(_ ring: @escaping @Sendable () -> Void) async throws {
        let notifications = try await database.client.listen([lock.channel])
        let task = Task {
            for await _ in notifications { ring() }
        }
        listening.withLock { $0 = (notifications, task) }
    }

    /// Runs `body` with the session's connection thread preferred, so its statements cost no thread hop.
    public func run<T>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(connection.taskExecutor) { try await body() }
    }

    /// Stops listening and ends the session, releasing the lock.
    public func close() {
        if let (notifications, task) = listening.withLock({ $0.take() }) {
            task.cancel()
            notifications.stop()
        }
        connection.close()
    }
}
