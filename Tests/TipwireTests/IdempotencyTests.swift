import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireAPI
import TipwireCore
import TipwireStore

/// Every mutating POST honours `Idempotency-Key`: the same key and request get the stored answer and
/// change nothing again; the key with another request is 422; a refused request stores nothing.
@Suite("Retries of actions are safe", .timeLimit(.minutes(5)))
struct IdempotencyTests {
    static let keyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    @Test func aRetriedExtendCountsOnceEvenWhenRetriesRace() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let (_, tasks) = try await TaskLifecycleHTTPTests.submit(client, fixture)
                let task = try #require(tasks["so-nnmt"])
                let agency = fixture.token("agency", "so-nnmt")
                let extend = #"{"days": 10, "reason": "Cần xác minh nhiều nơi"}"#
                // Refused (not yet acknowledged): nothing stored, so the same retry runs again later.
                let early = try await client.send(.post("/v1/tasks/\(task)/extend", token: agency, json: extend, key: "extend-1"))
                #expect(early.status == .conflict)
                #expect(try await client.send(.post("/v1/tasks/\(task)/acknowledge", token: agency, json: "{}", key: "ack-1")).status == .ok)

                let first = try await client.send(.post("/v1/tasks/\(task)/extend", token: agency, json: extend, key: "extend-1"))
                #expect(first.status == .ok, "\(first.text)")
                #expect(first.headers[Self.replayedHeader] == nil)
                let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                    for _ in 0..<8 {
                        group.addTask { try await client.send(.post("/v1/tasks/\(task)/extend", token: agency, json: extend, key: "extend-1")) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                for reply in replies {
                    #expect(reply.status == .ok)
                    #expect(reply.headers[Self.replayedHeader] == "true")
                    #expect(reply.body == first.body)
                }
                let row = try await fixture.client.query("SELECT extensions FROM tasks WHERE id = \(UUID(uuidString: task)!)")[0]
                #expect(try row.decode(column: 0, as: Int.self) == 1)
                let extended = try await fixture.client.query(
                    "SELECT count(*) FROM task_events WHERE task_id = \(UUID(uuidString: task)!) AND kind = 'extended'")[0]
                #expect(try extended.decode(column: 0, as: Int.self) == 1)

                // The key with another body, or on another action, is refused by name.
                for (path, json) in [("extend", #"{"days": 20, "reason": "Khác"}"#), ("start", "{}")] {
                    let reused = try await client.send(.post("/v1/tasks/\(task)/\(path)", token: agency, json: json, key: "extend-1"))
                    #expect(reused.status == .unprocessableContent)
                    #expect(try reused.problemFields() == ["Idempotency-Key"])
                }
                // Another party's identical key is its own.
                let other = try #require(tasks["ubnd-cau-giay"])
                let ward = fixture.token("agency", "ubnd-cau-giay")
                #expect(
                    try await client.send(.post("/v1/tasks/\(other)/acknowledge", token: ward, json: "{}", key: "ack-1")).headers[Self.replayedHeader]
                        == nil)
            }
        }
    }

    @Test func aRetriedQuestionOpensOneRequestWithOneClock() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let (finding, tasks) = try await TaskLifecycleHTTPTests.submit(client, fixture)
                let task = try #require(tasks["so-nnmt"])
                let agency = fixture.token("agency", "so-nnmt")
                let liaison = fixture.token("liaison", "tuoitre")
                #expect(try await client.send(.post("/v1/tasks/\(task)/acknowledge", token: agency, json: "{}", key: nil)).status == .ok)
                for _ in 0..<2 {
                    let asked = try await client.send(
                        .post("/v1/tasks/\(task)/request-info", token: agency, json: #"{"questions": "Bản đồ?"}"#, key: "ask-1"))
                    #expect(asked.status == .ok, "\(asked.text)")
                }
                for _ in 0..<2 {
                    let question = try await client.send(
                        .post("/v1/findings/\(finding)/questions", token: liaison, json: #"{"question": "Tiến độ?"}"#, key: "q-1"))
                    #expect(question.status == .created, "\(question.text)")
                }
                let counts = try await fixture.client.query(
                    "SELECT direction, count(*) FROM info_requests GROUP BY direction ORDER BY direction"
                ).decode((String, Int).self)
                // One question to the newsroom; one to each agency with an open task (two), not four.
                #expect(counts.map { "\($0.0)=\($0.1)" } == ["to-agency=2", "to-newsroom=1"])
                let clocks = try await fixture.client.query("SELECT count(*) FROM deadlines WHERE request_id IS NOT NULL")[0]
                #expect(try clocks.decode(column: 0, as: Int.self) == 3)

                // The newsroom's answer and a document upload replay too.
                let requests = try await client.send(.get("/v1/requests?direction=to-newsroom", token: liaison)).json()
                let request = try #require((requests["items"] as? [[String: Any]])?.first?["id"] as? String)
                var answers: [Reply] = []
                for _ in 0..<2 {
                    answers.append(
                        try await client.send(.post("/v1/requests/\(request)/answer", token: liaison, json: #"{"answer": "Đây"}"#, key: "answer-1")))
                }
                #expect(answers.map(\.status) == [.ok, .ok])
                #expect(answers[1].headers[Self.replayedHeader] == "true")
                var uploads: [Reply] = []
                for _ in 0..<2 {
                    uploads.append(
                        try await client.send(
                            Call(
                                method: .post, path: "/v1/documents", token: liaison, body: Array("biên bản".utf8), contentType: "text/plain",
                                headers: [Self.keyHeader: "doc-1"])))
                }
                #expect(uploads.map(\.status) == [.created, .created])
                #expect(uploads[1].headers[Self.replayedHeader] == "true")
            }
        }
    }
}
