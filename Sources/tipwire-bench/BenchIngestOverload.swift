import Foundation
import Postgres
import TipwireCore
import TipwirePipeline

extension BenchIngest {
    /// Step 5: twice the saturation rate (by default), and what became of every request.
    func overloadRun(client: PostgresClient, port: Int, token: BearerToken, saturation: Double, relay: OutboxRelay) async throws {
        let offered = max(1, Int((saturation * overloadFactor).rounded()))
        print("")
        print(
            "5. overload: \(offered) findings/s (\(overloadFactor)× step 1's \(formatRate(saturation).trimmingCharacters(in: .whitespaces))/s) "
                + "for \(seconds) s, \(maxInFlight) in flight at most, shedding after \(shedAfterMs) ms, relay running"
        )
        let relayTask = Task { try await relay.run() }
        try await drain(client, timeout: .seconds(300))
        try await settle(client)
        let phaseStart = Date()
        let answers = try await openLoop(port: port, token: token, rate: offered, keyPrefix: "overload")
        // How far the load itself fell behind: a send later than its schedule offered less than the rate.
        let sendLag = answers.map { $0.sinceScheduledMs - $0.serviceMs }.max() ?? 0
        try await drain(client, timeout: .seconds(300))
        relayTask.cancel()
        _ = await relayTask.result
        let created = answers.filter { $0.status == 201 }.map(\.serviceMs).sorted()
        let shed = answers.filter { $0.status == 503 }.map(\.serviceMs).sorted()
        let other = answers.count - created.count - shed.count
        let (written, findingEvents, taskEvents) = try await client.query(
            """
            SELECT (SELECT count(*)::int FROM findings WHERE created_at >= \(phaseStart)),
                   (SELECT count(*)::int FROM outbox_deliveries WHERE ce_time >= \(phaseStart) AND ce_type = \(EventType.findingReceived)),
                   (SELECT count(*)::int FROM outbox_deliveries WHERE ce_time >= \(phaseStart) AND ce_type = \(EventType.taskAssigned))
            """
        )[0].decode((Int, Int, Int).self)
        func figures(_ sorted: [Double]) -> String {
            sorted.isEmpty
                ? "none"
                : String(format: "p50 %.0f ms, p99 %.0f ms, max %.0f ms", percentile(sorted, 50), percentile(sorted, 99), sorted.last ?? .nan)
        }
        print(
            String(
                format: "   sent %d (%d/s for %d s; the latest send %.0f ms behind its schedule): %d × 201, %d × 503, %d other",
                answers.count, offered, seconds, sendLag, created.count, shed.count, other))
        print("   201 answered in \(figures(created)); 503 answered in \(figures(shed))")
        let bound = Double(shedAfterMs)
        // A request waits at most the bound in all (its turn, then the database) before its work starts.
        let shedInTime = (shed.last ?? 0) <= bound + 100
        let createdInTime = created.isEmpty ? 0 : Double(created.filter { $0 <= bound }.count) / Double(created.count)
        print(
            "   every 503 within the bound (+100 ms for the event loop): " + (shedInTime ? "yes" : "NO (slowest \(Int(shed.last ?? 0)) ms)")
                + String(format: "; 201s within the bound: %.1f%%", createdInTime * 100))
        let whole = written == created.count && findingEvents == created.count && taskEvents == 2 * created.count && other == 0
        print(
            "   findings written \(written) for \(created.count) × 201; delivered: \(findingEvents) finding.received, \(taskEvents) task.assigned  "
                + (whole ? "every 201 reached its topics, no 503 wrote anything" : "MISMATCH"))
    }
}
