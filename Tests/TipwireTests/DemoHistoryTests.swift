import Foundation
import Postgres
import Testing
import TipwireCore
import TipwireStore

@Suite("Demo history") struct DemoHistoryTests {
    /// A small past, checked for what makes it a believable one: every finding taken in, every event in its
    /// task's order and before the end, agencies acting only in office hours on working days (Tết included),
    /// the outbox delivered, deadlines raised, and no second history on top of it.
    @Test func aPastWrittenThroughTheWritePathsKeepsTimeAndTheCalendar() async throws {
        try await Fixture.with { fixture in
            // 2026-03-31 17:00 Hanoi: the four months before cover Tết (16–20 February 2026).
            let until = Date(timeIntervalSince1970: 1_774_951_200)
            let options = DemoHistory.Options(findings: 60, days: 120, until: until, seed: 5)
            let summary = try await DemoHistory(stores: fixture.stores, options: options).run()
            #expect(summary.findings == 60)
            #expect(summary.tasks >= 60)
            #expect(summary.actions > summary.tasks)
            #expect(summary.rungs > 0)
            #expect(try await fixture.count("findings") == 60)
            #expect(try await fixture.count("outbox") == 0)

            let events = try await fixture.client.query(
                """
                SELECT e.task_id, e.kind, e.actor, e.at, t.assigned_at FROM task_events e JOIN tasks t ON t.id = e.task_id ORDER BY e.id
                """
            ).decode((UUID, String, String, Date, Date).self)
            let calendar = try await fixture.stores.calendar.load()
            var last: [UUID: Date] = [:]
            for (task, kind, actor, at, assigned) in events {
                #expect(at <= until, "\(kind) at \(at) after the end")
                #expect(at >= assigned, "\(kind) on \(task) before its assignment")
                #expect(at >= (last[task] ?? assigned), "\(kind) on \(task) out of order")
                last[task] = at
                if actor.hasPrefix("agency:") {
                    let day = WorkingCalendar.dayOf(at)
                    let hour = at.timeIntervalSince(day.start) / 3_600
                    #expect(calendar.isWorkingDay(day) && hour >= 8 && hour <= 17, "\(actor) \(kind) at \(at) is outside office hours")
                }
            }
            #expect(Set(events.map(\.1)).isSuperset(of: ["assigned", "delivered", "acknowledged", "resolved", "extended", "transferred"]))

            // The timelines the triggers kept equal a rebuild from the events.
            let kept = try await fixture.client.query("SELECT md5(string_agg(t::text, ',' ORDER BY task_id)) FROM task_timelines t")
            _ = try await fixture.client.query("SELECT task_timelines_rebuild()")
            let rebuilt = try await fixture.client.query("SELECT md5(string_agg(t::text, ',' ORDER BY task_id)) FROM task_timelines t")
            #expect(try kept[0].decode(column: 0, as: String.self) == rebuilt[0].decode(column: 0, as: String.self))

            await #expect(throws: DemoHistory.Refusal.self) { try await DemoHistory(stores: fixture.stores, options: options).run() }
        }
    }
}
