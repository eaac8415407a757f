import Foundation
import Logging

/// Applies forward-only SQL migrations from a directory.
///
/// Files are named `NNNN_name.sql` and applied in order, each in its own
/// transaction, under an advisory lock so concurrent migrators take turns.
/// Each applied file is recorded with its SHA-256 (computed by the server);
/// a recorded file whose content changed is an error naming it.
public struct PostgresMigrator: Sendable {
    public struct Migration: Sendable, Equatable {
        public init(name: String, sql: String) {
            self.name = name
            self.sql = sql
        }
        public var name: String
        public var sql: String
    }

    public struct Report: Sendable, Equatable {
        public var applied: [String]
        public var alreadyApplied: [String]
    }

    public let client: PostgresClient
    public let table: String
    public let lockKey: Int64
    public let logger: Logger

    public init(
        client: PostgresClient, table: String = "schema_migrations", lockKey: Int64 = 0x7469_7077_6972_6501, logger: Logger = Logger(label: "migrate")
    ) {
        self.client = client
        self.table = table
        self.lockKey = lockKey
        self.logger = logger
    }

    /// Reads `NNNN_*.sql` files from a directory, in name order.
    public static func load(directory: URL) throws -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw PostgresError(.migration, "cannot read migrations directory \(directory.path): \(error.localizedDescription)")
        }
        return try names.filter { $0.hasSuffix(".sql") }.sorted().map { name in
            let prefix = name.prefix { $0.isNumber }
            guard prefix.count == 4, name.dropFirst(4).first == "_" else {
                throw PostgresError(.migration, "migration file \(name) is not named NNNN_name.sql")
            }
            let url = directory.appendingPathComponent(name)
            guard let sql = try? String(contentsOf: url, encoding: .utf8) else {
                throw PostgresError(.migration, "cannot read migration \(url.path) as UTF-8")
            }
            return Migration(name: name, sql: sql)
        }
    }

    @discardableResult
    public func migrate(directory: URL) async throws -> Report {
        try await migrate(Self.load(directory: directory))
    }

    @discardableResult
    public func migrate(_ migrations: [Migration]) async throws -> Report {
        try await client.withConnection { connection in
            try await connection.execute("SELECT pg_advisory_lock(\(lockKey))")
            do {
                let report = try await apply(migrations, on: connection)
                try await connection.execute("SELECT pg_advisory_unlock(\(lockKey))")
                return report
            } catch {
                _ = try? await connection.run("SELECT pg_advisory_unlock(\(lockKey))", cancellable: false)
                throw error
            }
        }
    }

    private func apply(_ migrations: [Migration], on connection: PostgresConnection) async throws -> Report {
        try await connection.execute(
            """
            CREATE TABLE IF NOT EXISTS \(identifier: table) (
                name text PRIMARY KEY,
                sha256 text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        var recorded: [String: String] = [:]
        for (name, checksum) in try await connection.query("SELECT name, sha256 FROM \(identifier: table)").decode((String, String).self) {
            recorded[name] = checksum
        }
        var report = Report(applied: [], alreadyApplied: [])
        for migration in migrations {
            let checksum = try await connection.query("SELECT encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex')")
                .decodeColumn(String.self)[0]
            if let applied = recorded[migration.name] {
                guard applied == checksum else {
                    throw PostgresError(
                        .migration,
                        "migration \(migration.name) was changed after it was applied (recorded sha256 \(applied.prefix(12))…, "
                            + "file now \(checksum.prefix(12))…); write a new migration instead of editing an applied one")
                }
                report.alreadyApplied.append(migration.name)
                continue
            }
            do {
                try await connection.withTransaction { connection in
                    try await connection.executeScript(migration.sql)
                    try await connection.execute("INSERT INTO \(identifier: table) (name, sha256) VALUES (\(migration.name), \(checksum))")
                }
            } catch var error as PostgresError {
                error.message = "migration \(migration.name) failed: \(error.message)"
                throw error
            }
            logger.info("applied migration", metadata: ["migration": "\(migration.name)"])
            report.applied.append(migration.name)
        }
        return report
    }
}
