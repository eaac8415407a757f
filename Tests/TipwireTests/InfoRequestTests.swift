import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireAPI
import TipwireCore
import TipwireStore

@Suite("Information requests both ways", .timeLimit(.minutes(5)))
struct InfoRequestTests {
    typealias Lifecycle = TaskLifecycleHTTPTests

    /// A ward task acknowledged, then an information request to the newsroom; returns (finding, task, request).
    static func requestInfo(_ client: some TestClientProtocol, _ fixture: Fixture) async throws -> (String, String, String) {
        let (finding, tasks) = try await Lifecycle.submit(client, fixture)
        let task = try #require(tasks["ubnd-cau-giay"])
        let ward = fixture.token("agency", "ubnd-cau-giay")
        #expect(try await Lifecycle.act(client, task, "acknowledge", token: ward).status == .ok)
        let asked = try await Lifecycle.act(
            client, task, "request-info", token: ward,
            json: #"{"questions": "Đề nghị cung cấp biên bản kiểm tra gốc", "documents_wanted": ["biên bản kiểm tra ngày 12/11"]}"#)
        #expect(asked.status == .ok, "\(asked.text)")
        let detail = try #require(try asked.json()["task"] as? [String: Any])
        #expect(detail["state"] as? String == "info_requested")
        let event = try #require((detail["events"] as? [[String: Any]])?.last)
        let request = try #require((event["detail"] as? [String: Any])?["request_id"] as? String)
        return (finding, task, request)
    }

    @Test func theNewsroomAnswersWithADocumentAndTheTaskResumes() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let (_, task, request) = try await Self.requestInfo(client, fixture)
                let liaison = fixture.token("liaison", "tuoitre")
                let listed = try await client.send(.get("/v1/requests?state=open", token: liaison)).json()
                let items = try #require(listed["items"] as? [[String: Any]])
                #expect(items.map { $0["id"] as? String } == [request])
                #expect(items.first?["direction"] as? String == "to-newsroom")
                #expect(items.first?["documents_wanted"] as? [String] == ["biên bản kiểm tra ngày 12/11"])
                let other = try await client.send(.get("/v1/requests", token: fixture.token("liaison", "vnexpress"))).json()
                #expect((other["items"] as? [Any])?.isEmpty == true)
                #expect(try await client.send(.get("/v1/requests/\(request)", token: fixture.token("liaison", "vnexpress"))).status == .notFound)
                let created = try await fixture.client.query(
                    "SELECT topic FROM outbox WHERE ce_type = 'vn.tipwire.request.created.v1'"
                ).decodeColumn(String.self)
                #expect(created == ["tipwire.requests.tuoitre"])

                let document = try await IngestTests.upload(client, fixture, "Biên bản kiểm tra gốc, bản scan")
                let answered = try await client.send(
                    .post(
                        "/v1/requests/\(request)/answer", token: liaison,
                        json: #"{"answer": "Gửi kèm biên bản gốc", "document_ids": ["\#(document)"]}"#, key: nil))
                #expect(answered.status == .ok, "\(answered.text)")
                let view = try answered.json()
                #expect(view["state"] as? String == "answered")
                #expect((view["answer_documents"] as? [[String: Any]])?.first?["id"] as? String == document)

                let ward = fixture.token("agency", "ubnd-cau-giay")
                let detail = try await client.send(.get("/v1/tasks/\(task)", token: ward)).json()
                #expect(detail["state"] as? String == "in_progress")
                #expect((detail["events"] as? [[String: Any]])?.last?["kind"] as? String == "info_answered")
                // The answer's document joined the finding: the agency may fetch it now.
                #expect(try await client.send(.get("/v1/documents/\(document)", token: ward)).status == .ok)
                let delivered = try await fixture.client.query(
                    "SELECT topic FROM outbox WHERE ce_type = 'vn.tipwire.request.answered.v1'"
                ).decodeColumn(String.self)
                #expect(delivered == ["tipwire.tasks.ubnd-cau-giay"])

                let again = try await client.send(.post("/v1/requests/\(request)/answer", token: liaison, json: #"{"answer": "Lần nữa"}"#, key: nil))
                #expect(again.status == .conflict)
                // Only the finding's newsroom answers; the agency cannot answer its own request.
                let byAgency = try await client.send(.post("/v1/requests/\(request)/answer", token: ward, json: #"{"answer": "x"}"#, key: nil))
                #expect(byAgency.status == .notFound)
            }
        }
    }

    @Test func theNewsroomMayDeclineWithAReasonAndTheAgencysClockResumes() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let (_, task, request) = try await Self.requestInfo(client, fixture)
                let liaison = fixture.token("liaison", "tuoitre")
                let missing = try await client.send(.post("/v1/requests/\(request)/decline", token: liaison, json: "{}", key: nil))
                #expect(try missing.problemFields() == ["reason"])
                let theirs = try await IngestTests.upload(client, fixture, "tài liệu khác", newsroom: "vnexpress")
                let foreign = try await client.send(
                    .post("/v1/requests/\(request)/answer", token: liaison, json: #"{"answer": "x", "document_ids": ["\#(theirs)"]}"#, key: nil))
                #expect(try foreign.problemFields() == ["document_ids[0]"])
                let declined = try await client.send(
                    .post("/v1/requests/\(request)/decline", token: liaison, json: #"{"reason": "Tài liệu có thể làm lộ nguồn tin"}"#, key: nil))
                #expect(declined.status == .ok)
                #expect(try declined.json()["state"] as? String == "declined")
                let detail = try await client.send(.get("/v1/tasks/\(task)", token: fixture.token("agency", "ubnd-cau-giay"))).json()
                #expect(detail["state"] as? String == "in_progress")
                #expect((detail["events"] as? [[String: Any]])?.last?["kind"] as? String == "info_declined")
            }
        }
    }

    @Test func aNewsroomAsksTheAgenciesAboutProgressAndTheyAnswer() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let (finding, _) = try await Lifecycle.submit(client, fixture)
                let liaison = fixture.token("liaison", "tuoitre")
                let asked = try await client.send(
                    .post("/v1/findings/\(finding)/questions", token: liaison, json: #"{"question": "Vụ việc đã được xử lý đến đâu?"}"#, key: nil))
                #expect(asked.status == .created, "\(asked.text)")
                let requests = try #require(try asked.json()["items"] as? [[String: Any]])
                #expect(Set(requests.compactMap { $0["agency"] as? String }) == ["so-nnmt", "ubnd-cau-giay"])
                #expect(requests.allSatisfy { $0["direction"] as? String == "to-agency" })
                let topics = try await fixture.client.query(
                    "SELECT topic FROM outbox WHERE ce_type = 'vn.tipwire.request.created.v1' ORDER BY topic"
                ).decodeColumn(String.self)
                #expect(topics == ["tipwire.tasks.so-nnmt", "tipwire.tasks.ubnd-cau-giay"])

                let department = fixture.token("agency", "so-nnmt")
                let mine = try await client.send(.get("/v1/requests?direction=to-agency", token: department)).json()
                let id = try #require((mine["items"] as? [[String: Any]])?.first?["id"] as? String)
                let withDocument = try await client.send(
                    .post(
                        "/v1/requests/\(id)/answer", token: department, json: #"{"answer": "x", "document_ids": ["\#(UUID().uuidString)"]}"#, key: nil
                    ))
                #expect(try withDocument.problemFields() == ["document_ids"])
                let answered = try await client.send(
                    .post("/v1/requests/\(id)/answer", token: department, json: #"{"answer": "Đang xác minh tại hiện trường"}"#, key: nil))
                #expect(answered.status == .ok)
                let update = try await fixture.client.query(
                    "SELECT topic FROM outbox WHERE ce_type = 'vn.tipwire.request.answered.v1'"
                ).decodeColumn(String.self)
                #expect(update == ["tipwire.requests.tuoitre"])

                #expect(
                    try await client.send(
                        .post(
                            "/v1/findings/\(finding)/questions", token: fixture.token("liaison", "vnexpress"), json: #"{"question": "?"}"#, key: nil)
                    ).status
                        == .notFound)
                let noTask = try await client.send(
                    .post("/v1/findings/\(finding)/questions", token: liaison, json: #"{"question": "?", "agency": "cong-an-tp"}"#, key: nil))
                #expect(try noTask.problemFields() == ["agency"])
            }
        }
    }
}
