import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireAPI
import TipwireCore
import TipwireStore

@Suite("The task lifecycle over HTTP", .timeLimit(.minutes(5)))
struct TaskLifecycleHTTPTests {
    /// Submits the demo land finding and returns the ids of its tasks by agency.
    static func submit(_ client: some TestClientProtocol, _ fixture: Fixture, category: String = "land") async throws -> (
        finding: String, tasks: [String: String]
    ) {
        let reply = try await client.send(.post("/v1/findings", token: fixture.token("liaison", "tuoitre"), json: findingJSON(category: category)))
        let body = try reply.json()
        let tasks = try #require(body["tasks"] as? [[String: Any]])
        var byAgency: [String: String] = [:]
        for task in tasks { byAgency[try #require(task["agency"] as? String)] = try #require(task["id"] as? String) }
        return (try #require(body["id"] as? String), byAgency)
    }

    static func act(_ client: some TestClientProtocol, _ task: String, _ action: String, token: String, json: String = "{}") async throws -> Reply {
        try await client.send(.post("/v1/tasks/\(task)/\(action)", token: token, json: json, key: nil))
    }

    @Test func anAgencyTakesItsTaskFromDeliveredToResolvedAndTheFindingIsAccountedFor() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let (finding, tasks) = try await Self.submit(client, fixture)
                let ward = fixture.token("agency", "ubnd-cau-giay")
                let department = fixture.token("agency", "so-nnmt")
                let wardTask = try #require(tasks["ubnd-cau-giay"])

                #expect(try await Self.act(client, wardTask, "acknowledge", token: ward, json: #"{"note": "Đã tiếp nhận"}"#).status == .ok)
                #expect(try await Self.act(client, wardTask, "start", token: ward, json: "").status == .ok)
                #expect(
                    try await Self.act(client, wardTask, "extend", token: ward, json: #"{"days": 30, "reason": "Cần xác minh nhiều nơi"}"#).status
                        == .ok)
                let resolved = try await Self.act(
                    client, wardTask, "resolve", token: ward, json: #"{"outcome": "partly_substantiated", "summary": "Sai phạm một phần, đã xử lý"}"#)
                #expect(resolved.status == .ok, "\(resolved.text)")
                let task = try #require(try resolved.json()["task"] as? [String: Any])
                #expect(task["state"] as? String == "resolved")
                #expect(task["outcome"] as? String == "partly_substantiated")
                #expect(task["extensions"] as? Int == 1)
                #expect(task["allowed_actions"] as? [String] == [])
                let events = try #require(task["events"] as? [[String: Any]])
                #expect(events.compactMap { $0["kind"] as? String } == ["assigned", "acknowledged", "started", "extended", "resolved"])
                #expect((events.last?["detail"] as? [String: Any])?["summary"] as? String == "Sai phạm một phần, đã xử lý")

                // The other task declined: every task terminal, so the finding is accounted for.
                let departmentTask = try #require(tasks["so-nnmt"])
                #expect(
                    try await Self.act(client, departmentTask, "decline", token: department, json: #"{"reason": "Không thuộc thẩm quyền"}"#).status
                        == .ok)
                let view = try await client.send(.get("/v1/findings/\(finding)", token: fixture.token("liaison", "tuoitre"))).json()
                #expect(view["accounted_for"] as? Bool == true)

                // The newsroom learns of both outcomes on its topic.
                let updates = try await fixture.client.query(
                    "SELECT topic, payload FROM outbox WHERE ce_type = 'vn.tipwire.finding.update.v1' ORDER BY id"
                ).decode((String, String).self)
                #expect(updates.map(\.0) == ["tipwire.requests.tuoitre", "tipwire.requests.tuoitre"])
                let last = try JSONSerialization.jsonObject(with: Data(updates[1].1.utf8)) as? [String: Any]
                #expect(last?["action"] as? String == "decline")
                #expect(last?["accounted_for"] as? Bool == true)

                // The liaison sees the task's timeline too; another agency does not.
                #expect(try await client.send(.get("/v1/tasks/\(wardTask)", token: fixture.token("liaison", "tuoitre"))).status == .ok)
                #expect(try await client.send(.get("/v1/tasks/\(wardTask)", token: department)).status == .notFound)
                #expect(try await client.send(.get("/v1/tasks/\(wardTask)", token: fixture.token("liaison", "vnexpress"))).status == .notFound)
            }
        }
    }

    @Test func anIllegalTransitionAnswers409NamingTheStateAndTheAllowedActions() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let (_, tasks) = try await Self.submit(client, fixture)
                let ward = fixture.token("agency", "ubnd-cau-giay")
                let before = try await fixture.tableCounts()
                let reply = try await Self.act(
                    client, try #require(tasks["ubnd-cau-giay"]), "resolve", token: ward, json: #"{"outcome": "substantiated", "summary": "x"}"#)
                #expect(reply.status == .conflict)
                let problem = try reply.json()
                #expect(problem["state"] as? String == "assigned")
                #expect(problem["allowed_actions"] as? [String] == ["acknowledge", "transfer", "decline"])
                #expect(try reply.problemFields() == ["state"])
                #expect(try await fixture.tableCounts() == before)
            }
        }
    }

    @Test func actionsAreScopedToTheTaskHolderAndTheRightRole() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let (_, tasks) = try await Self.submit(client, fixture)
                let wardTask = try #require(tasks["ubnd-cau-giay"])
                // Another agency's task does not exist for it.
                #expect(try await Self.act(client, wardTask, "acknowledge", token: fixture.token("agency", "so-nnmt")).status == .notFound)
                // Only the coordinator closes and reopens; only agencies acknowledge.
                #expect(
                    try await Self.act(client, wardTask, "close", token: fixture.token("agency", "ubnd-cau-giay"), json: #"{"reason": "x"}"#).status
                        == .forbidden)
                let coordinatorAck = try await Self.act(client, wardTask, "acknowledge", token: fixture.token("coordinator", "thanh-tra-tp"))
                #expect(coordinatorAck.status == .forbidden)
                #expect(try await Self.act(client, wardTask, "resolve", token: fixture.token("liaison", "tuoitre")).status == .forbidden)
                #expect(try await Self.act(client, wardTask, "fly", token: fixture.token("agency", "ubnd-cau-giay")).status == .notFound)
                #expect(
                    try await Self.act(client, UUID().uuidString, "acknowledge", token: fixture.token("agency", "ubnd-cau-giay")).status == .notFound)
            }
        }
    }

    @Test func badActionBodiesNameTheField() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let (_, tasks) = try await Self.submit(client, fixture)
                let ward = fixture.token("agency", "ubnd-cau-giay")
                let task = try #require(tasks["ubnd-cau-giay"])
                #expect(try await Self.act(client, task, "acknowledge", token: ward).status == .ok)
                let cases: [(String, String, [String])] = [
                    ("resolve", #"{"summary": "x"}"#, ["outcome"]),
                    ("resolve", #"{"outcome": "maybe", "summary": "x"}"#, ["outcome"]),
                    ("resolve", #"{"outcome": "substantiated", "summary": "   "}"#, ["summary"]),
                    ("decline", "{}", ["reason"]),
                    ("extend", #"{"days": 1.5, "reason": "x"}"#, ["days"]),
                    ("extend", #"{"days": 90, "reason": "x"}"#, ["days"]),
                    ("transfer", #"{"agency": "so-khong-co", "reason": "x"}"#, ["agency"]),
                    ("transfer", #"{"agency": "ubnd-cau-giay", "reason": "x"}"#, ["agency"]),
                    ("start", #"{"extra": 1}"#, ["extra"]),
                ]
                let before = try await fixture.tableCounts()
                for (action, json, fields) in cases {
                    let reply = try await Self.act(client, task, action, token: ward, json: json)
                    #expect(reply.status == .unprocessableContent, "\(action) \(json): \(reply.text)")
                    #expect(try reply.problemFields() == fields, "\(action) \(json)")
                }
                #expect(try await Self.act(client, task, "decline", token: ward, json: "{").status == .badRequest)
                #expect(try await fixture.tableCounts() == before)
                // Two extensions at most (the policy's cap).
                for _ in 0..<2 {
                    #expect(try await Self.act(client, task, "extend", token: ward, json: #"{"days": 10, "reason": "x"}"#).status == .ok)
                }
                let third = try await Self.act(client, task, "extend", token: ward, json: #"{"days": 10, "reason": "x"}"#)
                #expect(third.status == .unprocessableContent)
                #expect(try third.problemFields() == ["days"])
            }
        }
    }

    @Test func anAgencyTransfersItsTaskAndTheCoordinatorClosesAndReopensDeclinedOnes() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let (_, tasks) = try await Self.submit(client, fixture)
                let ward = fixture.token("agency", "ubnd-cau-giay")
                let coordinator = fixture.token("coordinator", "thanh-tra-tp")
                let moved = try await Self.act(
                    client, try #require(tasks["ubnd-cau-giay"]), "transfer", token: ward,
                    json: #"{"agency": "so-xay-dung", "reason": "Công trình xây dựng trái phép"}"#)
                #expect(moved.status == .ok, "\(moved.text)")
                let opened = try #require(try moved.json()["opened_task"] as? [String: Any])
                #expect(opened["agency"] as? String == "so-xay-dung")
                #expect(opened["routed_by"] as? String == "transfer")
                let newTask = try #require(opened["id"] as? String)
                #expect(moved.headers[.location] == "/v1/tasks/\(newTask)")
                let assigned = try await fixture.client.query(
                    "SELECT count(*) FROM outbox WHERE topic = 'tipwire.tasks.so-xay-dung' AND ce_type = 'vn.tipwire.task.assigned.v1'")
                #expect(try assigned[0].decode(column: 0, as: Int.self) == 1)

                let construction = fixture.token("agency", "so-xay-dung")
                #expect(
                    try await Self.act(client, newTask, "decline", token: construction, json: #"{"reason": "Đã có kết luận thanh tra"}"#).status
                        == .ok)
                let closed = try await Self.act(client, newTask, "close", token: coordinator, json: #"{"reason": "Trùng với vụ việc đã xử lý"}"#)
                #expect((try closed.json()["task"] as? [String: Any])?["state"] as? String == "closed")
                let reopened = try await Self.act(client, newTask, "reopen", token: coordinator, json: #"{"reason": "Có tình tiết mới"}"#)
                #expect((try reopened.json()["task"] as? [String: Any])?["state"] as? String == "in_progress")
            }
        }
    }

    @Test func taskListsAreScopedFilteredAndPaged() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                for _ in 0..<3 { _ = try await Self.submit(client, fixture) }
                let (_, tasks) = try await Self.submit(client, fixture)
                let ward = fixture.token("agency", "ubnd-cau-giay")
                #expect(try await Self.act(client, try #require(tasks["ubnd-cau-giay"]), "acknowledge", token: ward).status == .ok)

                var seen: [String] = []
                var cursor: String?
                repeat {
                    let page = try await client.send(.get("/v1/tasks?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), token: ward)).json()
                    let items = try #require(page["items"] as? [[String: Any]])
                    #expect(items.allSatisfy { $0["agency"] as? String == "ubnd-cau-giay" })
                    seen += items.compactMap { $0["id"] as? String }
                    cursor = page["next_cursor"] as? String
                } while cursor != nil
                #expect(Set(seen).count == 4)
                let acknowledged = try await client.send(.get("/v1/tasks?state=acknowledged", token: ward)).json()
                #expect((acknowledged["items"] as? [Any])?.count == 1)
                let all = try await client.send(.get("/v1/tasks?limit=100", token: fixture.token("coordinator", "thanh-tra-tp"))).json()
                #expect((all["items"] as? [Any])?.count == 8)
                let bad = try await client.send(.get("/v1/tasks?state=done", token: ward))
                #expect(bad.status == .badRequest)
                #expect(try bad.problemFields() == ["state"])
                #expect(try await client.send(.get("/v1/tasks", token: fixture.token("liaison", "tuoitre"))).status == .forbidden)
            }
        }
    }
}
