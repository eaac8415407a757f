import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireAPI
import TipwireCore
import TipwireStore

@Suite("Overdue duties, escalations and policies over HTTP", .timeLimit(.minutes(5)))
struct DutiesHTTPTests {
    typealias Lifecycle = TaskLifecycleHTTPTests

    /// Records the outbox as delivered `daysAgo` days ago (the relay's own statement), so the tasks'
    /// acknowledge clocks started then, and raises every rung due by now.
    static func deliverInThePast(_ fixture: Fixture, daysAgo: Double) async throws {
        try await fixture.client.withConnection { connection in
            let pending = try await OutboxStore.pending(limit: 1000, on: connection)
            try await OutboxStore.markSent(
                pending.map { OutboxDelivery(id: $0.id, event: $0.event, partition: 0, offset: $0.id) },
                at: Date().addingTimeInterval(-daysAgo * 86_400),
                on: connection)
            let calendar = try await CalendarStore(client: fixture.client).load()
            while try await DeadlineStore.raiseDue(at: Date(), limit: 100, engine: "test", calendar: calendar, on: connection).claimed > 0 {}
        }
    }

    @Test func theCoordinatorSeesOverdueDutiesByAgencyAndAcknowledgesEscalations() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let (_, tasks) = try await Lifecycle.submit(client, fixture)
                try await Self.deliverInThePast(fixture, daysAgo: 40)
                let coordinator = fixture.token("coordinator", "thanh-tra-tp")
                let department = fixture.token("agency", "so-nnmt")

                let board = try await client.send(.get("/v1/overdue", token: coordinator)).json()
                let groups = try #require(board["groups"] as? [[String: Any]])
                #expect(groups.compactMap { ($0["holder"] as? [String: Any])?["code"] as? String }.sorted() == ["so-nnmt", "ubnd-cau-giay"])
                for group in groups {
                    #expect(group["count"] as? Int == 1)
                    let item = try #require((group["items"] as? [[String: Any]])?.first)
                    #expect(item["stage"] as? String == "acknowledge")
                    #expect((item["overdue_by_working_days"] as? Int ?? 0) >= 15)
                    #expect(item["last_rung"] as? String == "escalation")
                    #expect(item["last_audience"] as? String == "city-leadership")
                }
                let one = try await client.send(.get("/v1/overdue?holder=so-nnmt&limit=5", token: coordinator)).json()
                #expect((one["groups"] as? [Any])?.count == 1)
                #expect(try await client.send(.get("/v1/overdue", token: department)).status == .forbidden)
                let badQuery = try await client.send(.get("/v1/overdue?limit=0&holder=NOT%20A%20CODE", token: coordinator))
                #expect(badQuery.status == .badRequest)
                #expect(try badQuery.problemFields().sorted() == ["holder", "limit"])

                // The task shows its own duty in working days.
                let task = try await client.send(.get("/v1/tasks/\(try #require(tasks["so-nnmt"]))", token: department)).json()
                let due = try #require(task["due"] as? [String: Any])
                #expect(due["stage"] as? String == "acknowledge")
                #expect(due["remaining_working_days"] as? Int == 0)
                #expect((due["overdue_by_working_days"] as? Int ?? 0) >= 15)
                #expect(due["paused"] as? Bool == false)

                // Overdue notices and escalations: three per task; an agency sees its own.
                let all = try await client.send(.get("/v1/escalations", token: coordinator)).json()
                let items = try #require(all["items"] as? [[String: Any]])
                #expect(items.count == 6)
                #expect(Set(items.compactMap { $0["kind"] as? String }) == ["overdue", "escalation"])
                let own = try #require(try await client.send(.get("/v1/escalations", token: department)).json()["items"] as? [[String: Any]])
                #expect(own.count == 3)
                #expect(own.allSatisfy { ($0["holder"] as? [String: Any])?["code"] as? String == "so-nnmt" })
                let paged = try await client.send(.get("/v1/escalations?limit=4", token: coordinator)).json()
                let cursor = try #require(paged["next_cursor"] as? String)
                let rest = try await client.send(.get("/v1/escalations?limit=4&cursor=\(cursor)", token: coordinator)).json()
                #expect((rest["items"] as? [Any])?.count == 2)

                // Acknowledging one, with a note, once.
                let id = try #require(own.first?["id"] as? String)
                let path = "/v1/escalations/\(id)/acknowledge"
                let note = #"{"note": "Đã đôn đốc Sở, hẹn trả lời trong tuần"}"#
                let acknowledged = try await client.send(.post(path, token: coordinator, json: note, key: "ack-escalation"))
                #expect(acknowledged.status == .ok, "\(acknowledged.text)")
                // A retry with its key gets the same answer, not a 409.
                let retried = try await client.send(.post(path, token: coordinator, json: note, key: "ack-escalation"))
                #expect(retried.status == .ok && retried.body == acknowledged.body)
                #expect(retried.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                #expect(try acknowledged.json()["acknowledged_by"] as? String == "coordinator:thanh-tra-tp (Cán bộ demo thanh-tra-tp)")
                #expect(try await client.send(.post(path, token: coordinator, json: #"{"note": "lần hai"}"#, key: nil)).status == .conflict)
                let noNote = try await client.send(
                    .post("/v1/escalations/\(try #require(own.last?["id"] as? String))/acknowledge", token: coordinator, json: "{}", key: nil))
                #expect(noNote.status == .unprocessableContent)
                #expect(try noNote.problemFields() == ["note"])
                #expect(try await client.send(.post(path, token: department, json: #"{"note": "x"}"#, key: nil)).status == .forbidden)
                #expect(
                    try await client.send(.post("/v1/escalations/\(UUID())/acknowledge", token: coordinator, json: #"{"note": "x"}"#, key: nil))
                        .status == .notFound)
                let open = try await client.send(.get("/v1/escalations?state=open", token: coordinator)).json()
                #expect((open["items"] as? [Any])?.count == 5)
                let bad = try await client.send(.get("/v1/escalations?state=closed&kind=reminder", token: coordinator))
                #expect(try bad.problemFields().sorted() == ["kind", "state"])

                // Acknowledging the task stops its clock: it leaves the board.
                #expect(try await Lifecycle.act(client, try #require(tasks["so-nnmt"]), "acknowledge", token: department).status == .ok)
                let after = try await client.send(.get("/v1/overdue", token: coordinator)).json()
                #expect(
                    (after["groups"] as? [[String: Any]])?.compactMap { ($0["holder"] as? [String: Any])?["code"] as? String } == ["ubnd-cau-giay"])
            }
        }
    }

    @Test func anAdminSetsDeadlinePoliciesAndBadOnesAreRefusedByField() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let admin = fixture.token("admin")
                func put(_ stage: String, _ json: String, token: String? = nil) async throws -> Reply {
                    try await client.send(Call(method: .put, path: "/v1/policies/\(stage)", token: token ?? admin, body: Array(json.utf8)))
                }
                let changed = try await put(
                    "acknowledge", #"{"amount": 10, "legal_basis": "Luật Tố cáo 2018 Điều 24: 10 ngày làm việc khi cần xác minh nhiều nơi"}"#)
                #expect(changed.status == .ok, "\(changed.text)")
                #expect(try changed.json()["unit"] as? String == "working_days")
                let land = try await put("resolve", #"{"category": "land", "amount": 45, "unit": "days", "max_extensions": 1}"#)
                #expect(land.status == .created, "\(land.text)")
                let listed = try #require(
                    try await client.send(.get("/v1/policies", token: fixture.token("agency", "so-nnmt"))).json()["items"] as? [[String: Any]])
                #expect(listed.contains { $0["stage"] as? String == "acknowledge" && $0["category"] is NSNull && $0["amount"] as? Int == 10 })
                #expect(
                    listed.contains {
                        $0["stage"] as? String == "resolve" && $0["category"] as? String == "land" && $0["max_extensions"] as? Int == 1
                    })

                let before = try await fixture.client.query("SELECT count(*), max(updated_at) FROM deadline_policies")[0].decode((Int, Date).self)
                let bad = try await put(
                    "resolve", #"{"amount": 0, "unit": "weeks", "reminder_percent": 100, "ladder_step_working_days": "two", "colour": "red"}"#)
                #expect(bad.status == .unprocessableContent)
                #expect(try bad.problemFields().sorted() == ["amount", "colour", "ladder_step_working_days", "reminder_percent", "unit"])
                #expect(try await put("extension", #"{"unit": "hours"}"#).status == .unprocessableContent)
                #expect(try await put("resolve", #"{"category": "sports", "amount": 5}"#).status == .unprocessableContent)
                #expect(try await put("bogus", #"{"amount": 5}"#).status == .notFound)
                #expect(try await put("resolve", #"{"amount": 5}"#, token: fixture.token("coordinator", "thanh-tra-tp")).status == .forbidden)
                #expect(try await put("resolve", "[1, 2]").status == .unprocessableContent)
                let after = try await fixture.client.query("SELECT count(*), max(updated_at) FROM deadline_policies")[0].decode((Int, Date).self)
                #expect(after == before, "a refused policy wrote something")
            }
        }
    }
}
