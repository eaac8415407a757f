import Foundation
import Logging
import Postgres

/// tipwire's database: the connection pool and its schema.
public struct TipwireDatabase: Sendable {
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
