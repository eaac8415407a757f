import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Recovery after the server restarts", .timeLimit(.minutes(3)))
struct RecoveryTests {
    @Test("the pool and a listener recover by themselves when the server restarts")
    func serverRestart() async throws {
        let cluster = try await TemporaryCluster()
        defer { cluster.destroy() }
        try await cluster.start()
        let client = PostgresClient(url: cluster.url, maxConnections: 2)
        defer { client.close() }
        try await client.execute("CREATE TABLE t (n int)")
        try await client.execute("INSERT INTO t VALUES (1)")
        let notifications = try await client.listen("restart_test")
        defer { notifications.stop() }

        try await cluster.stop()
        await #expect(throws: PostgresError.self) { try await client.query("SELECT 1") }
        try await cluster.start()

        // No manual reconnect: the next query after the restart works.
        var recovered = false
        for _ in 0..<50 where !recovered {
            recovered = (try? await client.query("SELECT count(*) FROM t").decodeColumn(Int.self)) == [1]
            if !recovered { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(recovered)
        #expect(try await client.query("SELECT count(*) FROM t").decodeColumn(Int.self) == [1])

        // The listener says it reconnected, then delivers again.
        var iterator = notifications.makeAsyncIterator()
        var sawReconnect = false
        while let notification = await iterator.next() {
            if notification.channel.isEmpty { sawReconnect = true; break }
        }
        #expect(sawReconnect)
        try await client.notify("restart_test", payload: "after")
        let next = await iterator.next()
        #expect(next?.payload == "after")
    }
}
