import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Migrations", .timeLimit(.minutes(2)))
struct MigrationTests {
    let migrations = [
        PostgresMigrator.Migration(name: "0001_agencies.sql", sql: "CREATE TABLE agencies (code text PRIMARY KEY);"),
        PostgresMigrator.Migration(
            name: "0002_seed.sql", sql: "INSERT INTO agencies VALUES ('so-nnmt'); INSERT INTO agencies VALUES ('vks-tp');"),
    ]

    @Test("applies in order once; a second run does nothing")
    func idempotent() async throws {
        try await TestDatabase.withSchema { client async throws in
            let migrator = PostgresMigrator(client: client)
            let first = try await migrator.migrate(migrations)
            #expect(first.applied == ["0001_agencies.sql", "0002_seed.sql"])
            let second = try await migrator.migrate(migrations)
            #expect(second.applied == [])
            #expect(second.alreadyApplied.count == 2)
            #expect(try await client.query("SELECT count(*) FROM agencies").decodeColumn(Int.self) == [2])
        }
    }

    @Test("an applied file whose content changed is an error naming it")
    func changedFile() async throws {
        try await TestDatabase.withSchema { client async throws in
            let migrator = PostgresMigrator(client: client)
            try await migrator.migrate(migrations)
            var changed = migrations
            changed[1].sql += "\n-- edited"
            let error = try await #require(throws: PostgresError.self) { try await migrator.migrate(changed) }
            #expect(error.kind == .migration)
            #expect(error.message.contains("0002_seed.sql"))
        }
    }

    @Test("a failing migration leaves nothing behind and names itself")
    func failingMigration() async throws {
        try await TestDatabase.withSchema { client async throws in
            let broken = migrations + [.init(name: "0003_broken.sql", sql: "CREATE TABLE half (n int); SELEC oops;")]
            let error = try await #require(throws: PostgresError.self) { try await PostgresMigrator(client: client).migrate(broken) }
            #expect(error.message.contains("0003_broken.sql"))
            #expect(error.sqlState == SQLState.syntaxError)
            let tables = try await client.query("SELECT count(*) FROM pg_tables WHERE tablename = 'half' AND schemaname = current_schema()")
            #expect(try tables.decodeColumn(Int.self) == [0])
            #expect(try await client.query("SELECT count(*) FROM schema_migrations").decodeColumn(Int.self) == [2])
        }
    }

    @Test("concurrent migrators take turns under the advisory lock")
    func concurrent() async throws {
        try await TestDatabase.withSchema(maxConnections: 6) { client async throws in
            let lockKey = Int64.random(in: 1...Int64.max)
            let reports = try await withThrowingTaskGroup(of: PostgresMigrator.Report.self) { group -> [PostgresMigrator.Report] in
                for _ in 0..<4 {
                    group.addTask { try await PostgresMigrator(client: client, lockKey: lockKey).migrate(migrations) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(reports.map(\.applied.count).reduce(0, +) == 2)
            #expect(try await client.query("SELECT count(*) FROM agencies").decodeColumn(Int.self) == [2])
        }
    }

    @Test("files are loaded in order and misnamed files are rejected")
    func loading() throws {
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "SELECT 2;".write(to: directory.appendingPathComponent("0002_b.sql"), atomically: true, encoding: .utf8)
        try "SELECT 1;".write(to: directory.appendingPathComponent("0001_a.sql"), atomically: true, encoding: .utf8)
        try "notes".write(to: directory.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        #expect(try PostgresMigrator.load(directory: directory).map(\.name) == ["0001_a.sql", "0002_b.sql"])
        try "SELECT 3;".write(to: directory.appendingPathComponent("3_bad.sql"), atomically: true, encoding: .utf8)
        #expect(throws: PostgresError.self) { try PostgresMigrator.load(directory: directory) }
    }
}
