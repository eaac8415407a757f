import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// tipwire's database: the connection pool and its schema. As a `Service`, it closes the pool when the
/// service group shuts down (list it before the services that use it).
public struct TipwireDatabase: Service, Sendable {
    public let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    public init(url: String, poolSize: Int = 20, logger: Logger = Logger(label: "tipwire.db")) {
        client = PostgresClient(
            configuration: .init(
                connection: PostgresConfiguration(url: url, applicationName: "tipwire"), maxConnections: poolSize,
                acquireTimeout: .seconds(5)),
            logger: logger)
    }

    /// Applies `schemas/sql` migrations (see `PostgresMigrator`).
    @discardableResult
    public func migrate(directory: URL, logger: Logger = Logger(label: "tipwire.migrate")) async throws -> PostgresMigrator.Report {
        try await PostgresMigrator(client: client, table: "schema_migrations", logger: logger).migrate(directory: directory)
    }

    /// Grants `role` what the service may do in this schema (migration 0011): the working tables, and
    /// only SELECT and INSERT on the audit log. Run by the owner after `migrate`.
    public func grantService(role: String) async throws {
        try await client.query("SELECT grant_service_role(\(role)::name)")
    }

    /// The role this pool connects as.
    public func role() async throws -> String {
        try await client.query("SELECT current_user::text")[0].decode(column: 0, as: String.self)
    }

    /// Whether the pool's role owns the audit log, so no privilege could stop it rewriting history (only
    /// the append-only triggers would).
    public func ownsAuditLog() async throws -> Bool {
        try await client.query(
            "SELECT pg_has_role(current_user, tableowner, 'USAGE') FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'audit_log'"
        ).first?.decode(column: 0, as: Bool.self) ?? false
    }

    public func run() async throws { try await client.run() }

    /// Closes the pool; for commands that use it once and end.
    public func close() { client.close() }

    /// One round trip, for health checks.
    public func ping() async throws {
        try await client.query("SELECT 1")
    }

    /// Finds `schemas/sql` from the working directory or next to the executable.
    public static func defaultMigrationsDirectory() -> URL {
        let candidates = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("schemas/sql"),
            Bundle.main.executableURL.map { $0.deletingLastPathComponent().appendingPathComponent("../../../schemas/sql").standardized },
        ].compactMap { $0 }
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) } ?? candidates[0]
    }
}
