import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Queries, errors, transactions and pooling", .timeLimit(.minutes(3)))
struct BehaviourTests {
    @Test("SQL errors surface with SQLSTATE, constraint and the query text")
    func serverErrors() async throws {
        try await TestDatabase.withSchema { client async throws in
            let division = try await #require(throws: PostgresError.self) { try await client.query("SELECT 1 / \(0)") }
            #expect(division.kind == .server)
            #expect(division.sqlState == "22012")
            #expect(division.query == "SELECT 1 / $1")

            try await client.execute("CREATE TABLE agencies (code text CONSTRAINT agencies_code_key UNIQUE)")
            try await client.execute("INSERT INTO agencies VALUES (\("so-nnmt"))")
            let duplicate = try await #require(throws: PostgresError.self) {
                try await client.execute("INSERT INTO agencies VALUES (\("so-nnmt"))")
            }
            #expect(duplicate.sqlState == SQLState.uniqueViolation)
            #expect(duplicate.constraint == "agencies_code_key")
            #expect(duplicate.detail?.contains("so-nnmt") == true)

            let syntax = try await #require(throws: PostgresError.self) { try await client.query("SELEC 1") }
            #expect(syntax.sqlState == SQLState.syntaxError)
            // The pool still works after errors.
            #expect(try await client.query("SELECT 1").decodeColumn(Int.self) == [1])
        }
    }

    @Test("closing a connection ends its session at once, releasing its advisory locks")
    func closeEndsTheSession() async throws {
        try await TestDatabase.withSchema { client async throws in
            let connection = try await PostgresConnection.connect(client.configuration.connection)
            try await connection.query("SELECT pg_advisory_lock(4242)")
            let held: PostgresQuery = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND granted"
            #expect(try await client.query(held)[0].decode(column: 0, as: Int.self) == 1)
            connection.close()
            // `connection` stays referenced until the end of this scope: only `close()` can have ended the session.
            let deadline = ContinuousClock.now + .seconds(5)
            while try await client.query(held)[0].decode(column: 0, as: Int.self) != 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await client.query(held)[0].decode(column: 0, as: Int.self) == 0)
            let closed = try await #require(throws: PostgresError.self) { try await connection.query("SELECT 1") }
            #expect(closed.kind == .connection)
            withExtendedLifetime(connection) {}
        }
    }

    @Test(
        "transient errors are the ones a retry can cure",
        arguments: [
            (PostgresError(.connection, "lost"), true), (PostgresError(.poolTimeout, "busy"), true), (PostgresError(.poolClosed, "closed"), true),
            (PostgresError(.server, "deadlock", sqlState: SQLState.deadlockDetected), true),
            (PostgresError(.server, "serialization", sqlState: SQLState.serializationFailure), true),
            (PostgresError(.server, "shutting down", sqlState: "57P01"), true),
            (PostgresError(.server, "disk full", sqlState: "53100"), true),
            (PostgresError(.server, "too long", sqlState: "22001"), false),
            (PostgresError(.server, "check", sqlState: SQLState.checkViolation), false),
            (PostgresError(.server, "unique", sqlState: SQLState.uniqueViolation), false), (PostgresError(.decoding, "type"), false),
            (PostgresError(.usage, "NUL byte"), false),
        ])
    func transientErrors(error: PostgresError, transient: Bool) {
        #expect(error.isTransient == transient, "\(error)")
    }

    @Test("an injection attempt in a bound value is stored verbatim")
    func injection() async throws {
        try await TestDatabase.withSchema { client async throws in
            try await client.execute("CREATE TABLE notes (body text)")
            let hostile = [
                "'); DROP TABLE notes; --", "Robert'); DELETE FROM notes WHERE ('1'='1", "$1", "\\'; SELECT pg_sleep(10); --",
                "' OR 1=1 --",
            ]
            for value in hostile { try await client.execute("INSERT INTO notes VALUES (\(value))") }
            let stored = try await client.query("SELECT body FROM notes ORDER BY body").decodeColumn(String.self)
            #expect(stored == hostile.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } || Set(stored) == Set(hostile))
            #expect(stored.count == hostile.count)
            let identifierAttack = "notes\"; DROP TABLE notes; --"
            await #expect(throws: PostgresError.self) { try await client.query("SELECT * FROM \(identifier: identifierAttack)") }
            #expect(try await client.query("SELECT count(*) FROM notes").decodeColumn(Int.self) == [hostile.count])
        }
    }

    @Test("a NUL byte in a text parameter is refused before it reaches the server")
    func nulByte() async throws {
        try await TestDatabase.withSchema { client async throws in
            let error = try await #require(throws: PostgresError.self) { try await client.query("SELECT \("a\u{0}b")::text") }
            #expect(error.kind == .usage)
        }
    }

    @Test("a transaction commits on return and rolls back on throw")
    func transactions() async throws {
        struct Abort: Error {}
        try await TestDatabase.withSchema { client async throws in
            try await client.execute("CREATE TABLE findings (title text)")
            try await client.withTransaction { connection in
                try await connection.execute("INSERT INTO findings VALUES (\("kept"))")
            }
            await #expect(throws: Abort.self) {
                try await client.withTransaction { connection in
                    try await connection.execute("INSERT INTO findings VALUES (\("dropped"))")
                    throw Abort()
                }
            }
            // Nested transactions are savepoints: the inner failure undoes only the inner work.
            try await client.withTransaction { connection in
                try await connection.execute("INSERT INTO findings VALUES (\("outer"))")
                _ = try? await connection.withTransaction { inner in
                    try await inner.execute("INSERT INTO findings VALUES (\("inner"))")
                    throw Abort()
                }
            }
            let titles = try await client.query("SELECT title FROM findings ORDER BY title").decodeColumn(String.self)
            #expect(titles == ["kept", "outer"])
        }
    }

    @Test("cancelling the task rolls the transaction back")
    func cancellationRollsBack() async throws {
        try await TestDatabase.withSchema { client async throws in
            try await client.execute("CREATE TABLE findings (title text)")
            let task = Task {
                try await client.withTransaction { connection in
                    try await connection.execute("INSERT INTO findings VALUES (\("never"))")
                    try await connection.query("SELECT pg_sleep(30)")
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(try await client.query("SELECT count(*) FROM findings").decodeColumn(Int.self) == [0])
        }
    }

    @Test("cancelling the task cancels a running pg_sleep on the server")
    func cancelQuery() async throws {
        try await TestDatabase.withSchema { client async throws in
            let started = ContinuousClock.now
            let task = Task { try await client.query("SELECT pg_sleep(30)") }
            try await Task.sleep(for: .milliseconds(300))
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(started.duration(to: .now) < .seconds(5))
            // The connection is clean for the next caller.
            #expect(try await client.query("SELECT 42").decodeColumn(Int.self) == [42])
        }
    }

    @Test("LISTEN/NOTIFY delivers payloads in order")
    func notifications() async throws {
        try await TestDatabase.withSchema { client async throws in
            let channel = "tipwire_test_\(UInt32.random(in: 0...UInt32.max))"
            let notifications = try await client.listen(channel)
            for payload in ["due", "hạn chót", "3"] { try await client.notify(channel, payload: payload) }
            var received: [String] = []
            for await notification in notifications {
                #expect(notification.channel == channel)
                received.append(notification.payload)
                if received.count == 3 { break }
            }
            notifications.stop()
            #expect(received == ["due", "hạn chót", "3"])
        }
    }

    @Test("pool exhaustion times out with a clear error")
    func poolExhaustion() async throws {
        try await TestDatabase.withSchema(maxConnections: 1, acquireTimeout: .milliseconds(300)) { client async throws in
            try await client.withConnection { _ in
                let started = ContinuousClock.now
                let error = try await #require(throws: PostgresError.self) { try await client.query("SELECT 1") }
                #expect(error.kind == .poolTimeout)
                #expect(error.message.contains("no database connection became free"))
                // It waits its timeout, not forever. The upper bound is loose: under the whole suite's parallel
                // load on 2 cores the answer once took 3.8 s.
                let waited = started.duration(to: .now)
                #expect(waited >= .milliseconds(300) && waited < .seconds(20))
            }
            // Once released, the connection serves again.
            #expect(try await client.query("SELECT 1").decodeColumn(Int.self) == [1])
        }
    }

    @Test("many tasks share a small pool")
    func concurrency() async throws {
        // The last of 200 waiters waits behind 199 statements: on two cores busy with the whole suite that has
        // taken over 10 s. This checks that they share the pool, not how fast.
        try await TestDatabase.withSchema(maxConnections: 3, acquireTimeout: .seconds(60)) { client async throws in
            try await client.execute("CREATE TABLE hits (n int)")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<200 { group.addTask { try await client.execute("INSERT INTO hits VALUES (\(Int32(n)))") } }
                try await group.waitForAll()
            }
            #expect(try await client.query("SELECT count(DISTINCT n) FROM hits").decodeColumn(Int.self) == [200])
            #expect(client.openConnections <= 3)
        }
    }

    @Test("a pipeline sends many statements in one round trip and is atomic")
    func pipeline() async throws {
        try await TestDatabase.withSchema { client async throws in
            try await client.execute("CREATE TABLE events (n int PRIMARY KEY)")
            let inserts = (0..<2_000).map { n -> PostgresQuery in "INSERT INTO events VALUES (\(Int32(n)))" }
            let results = try await client.pipeline(inserts + ["SELECT count(*) FROM events"])
            #expect(results.count == 2_001)
            #expect(try results.last!.decodeColumn(Int.self) == [2_000])

            let failing: [PostgresQuery] = ["INSERT INTO events VALUES (\(Int32(5000)))", "INSERT INTO events VALUES (\(Int32(1)))"]
            let error = try await #require(throws: PostgresError.self) { try await client.pipeline(failing) }
            #expect(error.sqlState == SQLState.uniqueViolation)
            #expect(try await client.query("SELECT count(*) FROM events").decodeColumn(Int.self) == [2_000])
        }
    }
}
