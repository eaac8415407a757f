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
