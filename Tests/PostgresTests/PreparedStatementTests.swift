import Postgres
import TestSupport
import Testing

@Suite("Prepared statements: once per connection, whatever happens around them", .timeLimit(.minutes(3)))
struct PreparedStatementTests {
    private static let preparedCount: PostgresQuery = "SELECT count(*) FROM pg_prepared_statements"

    private static func insert(_ n: Int32) -> PostgresQuery { .prepared("INSERT INTO marks VALUES (\(n))") }

    private static func preparedCount(on connection: PostgresConnection) async throws -> Int {
        try await connection.query(preparedCount)[0].decode(column: 0, as: Int.self)
    }

    /// `body` with its own connection holding a session-local table `marks (n int)`.
    private static func withConnection(_ body: (PostgresConnection) async throws -> Void) async throws {
        try await TestDatabase.withSchema { client async throws in
            let connection = try await PostgresConnection.connect(client.configuration.connection)
            defer { connection.close() }
            try await connection.execute("CREATE TEMPORARY TABLE marks (n int)")
            try await body(connection)
        }
    }

    @Test("a statement is prepared once, used alone and in pipelines, and outlives a rolled-back transaction")
    func preparedOnce() async throws {
        try await Self.withConnection { connection in
            try await connection.execute(Self.insert(1))
            _ = try await connection.pipeline([Self.insert(2), Self.insert(3), "SELECT 1"])
            struct Abandon: Error {}
            await #expect(throws: Abandon.self) {
                try await connection.withTransaction { connection in
                    try await connection.execute(Self.insert(4))
                    throw Abandon()
                }
            }
            try await connection.execute(Self.insert(5))
            #expect(try await connection.query("SELECT n FROM marks ORDER BY n").decodeColumn(Int.self) == [1, 2, 3, 5])
            #expect(try await Self.preparedCount(on: connection) == 1)
        }
    }

    @Test("a statement skipped by an earlier failure in its pipeline, or whose preparation failed, is prepared again next time")
    func failedPreparationIsForgotten() async throws {
        try await Self.withConnection { connection in
            let division = try await #require(throws: PostgresError.self) {
                try await connection.pipeline(["SELECT 1 / \(Int32(0))", Self.insert(1)])
            }
            #expect(division.sqlState == "22012")
            #expect(try await Self.preparedCount(on: connection) == 0)
            _ = try await connection.pipeline([Self.insert(2)])
            #expect(try await connection.query("SELECT n FROM marks").decodeColumn(Int.self) == [2])

            // Each attempt reports the statement's own error, not a missing prepared statement.
            for _ in 0..<2 {
                let syntax = try await #require(throws: PostgresError.self) { try await connection.query(.prepared("SELEC 1")) }
                #expect(syntax.sqlState == SQLState.syntaxError)
                let inPipeline = try await #require(throws: PostgresError.self) { try await connection.pipeline([.prepared("SELEC 2")]) }
                #expect(inPipeline.sqlState == SQLState.syntaxError)
            }
            #expect(try await Self.preparedCount(on: connection) == 1)
        }
    }

    @Test("a statement whose result columns a migration changed gives up its connection; a new one prepares it afresh")
    func changedResultColumns() async throws {
        try await TestDatabase.withSchema { client async throws in
            try await client.execute("CREATE TABLE notes (n int)")
            try await client.execute("INSERT INTO notes VALUES (1)")
            let read: PostgresQuery = .prepared("SELECT * FROM notes")
            let connection = try await PostgresConnection.connect(client.configuration.connection)
            defer { connection.close() }
            #expect(try await connection.query(read).decodeColumn(Int.self) == [1])
            try await client.execute("ALTER TABLE notes ADD COLUMN note text")
            let changed = try await #require(throws: PostgresError.self) { try await connection.query(read) }
            #expect(changed.sqlState == SQLState.featureNotSupported)
            let after = try await #require(throws: PostgresError.self) { try await connection.query("SELECT 1") }
            #expect(after.kind == .connection)

            let fresh = try await PostgresConnection.connect(client.configuration.connection)
            defer { fresh.close() }
            #expect(try await fresh.query(read).decode((Int, String?).self).map(\.0) == [1])
        }
    }
}
