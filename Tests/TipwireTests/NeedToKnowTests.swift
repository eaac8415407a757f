import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireAPI
import TipwireCore
import TipwireStore

/// Conflict of interest and need-to-know (docs/adr/0005): the accused agency never receives or reads the
/// finding; an agency sees its own task, the finding and the documents given to it, and loses the finding
/// when its task is transferred away; the coordinator sees everything.
@Suite("Conflict of interest and need-to-know", .timeLimit(.minutes(5)))
struct NeedToKnowTests {
    static func tasks(_ reply: Reply) throws -> [String: [String: Any]] {
        let tasks = try #require(try reply.json()["tasks"] as? [[String: Any]], "\(reply.text.prefix(300))")
        return Dictionary(uniqueKeysWithValues: tasks.map { ($0["agency"] as? String ?? "", $0) })
    }

    @Test func theAccusedAgencyGetsNoTaskNoEventAndCannotReadTheFindingOrItsDocuments() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let document = try await IngestTests.upload(client, fixture, "Biên bản hiện trường")
                let created = try await client.send(
                    .post(
                        "/v1/findings", token: fixture.token("liaison", "tuoitre"), json: findingJSON(documents: [document], subject: "ubnd-cau-giay")
                    ))
                #expect(created.status == .created, "\(created.text)")
                let finding = try #require(try created.json()["id"] as? String)
                let tasks = try Self.tasks(created)
                #expect(Set(tasks.keys) == ["so-nnmt", "thanh-tra-tp"])
                #expect(tasks["thanh-tra-tp"]?["routed_by"] as? String == "conflict-of-interest")
                // The routing record names the agency passed over.
                let detail = try await fixture.client.query(
                    "SELECT e.detail::text FROM task_events e JOIN tasks t ON t.id = e.task_id WHERE t.agency_code = 'thanh-tra-tp' AND e.kind = 'assigned'"
                )
                #expect(try detail[0].decode(column: 0, as: String.self).contains(#""excluded_subject": "ubnd-cau-giay""#))
                // Nothing for the accused reaches Kafka: the outbox is the only way there.
                let topics = try await fixture.client.query("SELECT DISTINCT topic FROM outbox").decodeColumn(String.self)
                #expect(!topics.contains("tipwire.tasks.ubnd-cau-giay"))
                #expect(
                    try await fixture.client.query("SELECT count(*) FROM outbox WHERE payload LIKE '%\"agency\":\"ubnd-cau-giay\"%'")[0]
                        .decode(column: 0, as: Int.self) == 0)

                let accused = fixture.token("agency", "ubnd-cau-giay")
                #expect(try await client.send(.get("/v1/findings/\(finding)", token: accused)).status == .notFound)
                #expect(try await client.send(.get("/v1/documents/\(document)", token: accused)).status == .notFound)
                let listed = try await client.send(.get("/v1/findings", token: accused)).json()
                #expect((listed["items"] as? [Any])?.isEmpty == true)

                // Neither a reassignment by the coordinator nor a transfer by the holder can give it the finding.
                let departmentTask = try #require(tasks["so-nnmt"]?["id"] as? String)
                let reassign = try await client.send(
                    .post(
                        "/v1/tasks/\(departmentTask)/reassign", token: fixture.token("coordinator", "thanh-tra-tp"),
                        json: #"{"agency": "ubnd-cau-giay", "reason": "Địa bàn phường"}"#, key: nil))
                #expect(reassign.status == .conflict, "\(reassign.text)")
                #expect(reassign.text.contains("conflict of interest"))
                let transfer = try await client.send(
                    .post(
                        "/v1/tasks/\(departmentTask)/transfer", token: fixture.token("agency", "so-nnmt"),
                        json: #"{"agency": "ubnd-cau-giay", "reason": "Thuộc thẩm quyền phường"}"#, key: nil))
                #expect(transfer.status == .conflict, "\(transfer.text)")
                #expect(
                    try await fixture.client.query("SELECT count(*) FROM tasks WHERE agency_code = 'ubnd-cau-giay'")[0].decode(
                        column: 0, as: Int.self) == 0)
            }
        }
    }

    @Test func anAgencySeesOnlyItsOwnTaskAndTheDocumentsGivenToItUntilItsTaskIsTransferredAway() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let liaison = fixture.token("liaison", "tuoitre")
                let department = fixture.token("agency", "so-nnmt")
                let ward = fixture.token("agency", "ubnd-cau-giay")
                let coordinator = fixture.token("coordinator", "thanh-tra-tp")
                let created = try await client.send(.post("/v1/findings", token: liaison, json: findingJSON()))
                let finding = try #require(try created.json()["id"] as? String)
                let tasks = try Self.tasks(created)
                let wardTask = try #require(tasks["ubnd-cau-giay"]?["id"] as? String)
                let departmentTask = try #require(tasks["so-nnmt"]?["id"] as? String)

                // Each agency's view of the shared finding lists its own task only; the coordinator's and the newsroom's list both.
                for (token, expected) in [
                    (department, ["so-nnmt"]), (ward, ["ubnd-cau-giay"]), (coordinator, ["so-nnmt", "ubnd-cau-giay"]),
                    (liaison, ["so-nnmt", "ubnd-cau-giay"]),
                ] {
                    let view = try await client.send(.get("/v1/findings/\(finding)", token: token))
                    #expect(try Self.tasks(view).keys.sorted() == expected)
                    let page = try await client.send(.get("/v1/findings", token: token)).json()
                    let listed = try #require((page["items"] as? [[String: Any]])?.first?["tasks"] as? [[String: Any]])
                    #expect(listed.compactMap { $0["agency"] as? String }.sorted() == expected)
                }

                // The ward asks the newsroom; the newsroom answers with a document given to the ward only.
                #expect(try await client.send(.post("/v1/tasks/\(wardTask)/acknowledge", token: ward, json: "{}", key: nil)).status == .ok)
                let asked = try await client.send(
                    .post("/v1/tasks/\(wardTask)/request-info", token: ward, json: #"{"questions": "Xin bản đồ địa chính"}"#, key: nil))
                #expect(asked.status == .ok, "\(asked.text)")
                let requests = try await client.send(.get("/v1/requests", token: liaison)).json()
                let request = try #require((requests["items"] as? [[String: Any]])?.first?["id"] as? String)
                let document = try await IngestTests.upload(client, fixture, "Bản đồ địa chính thửa 12")
                let answered = try await client.send(
                    .post(
                        "/v1/requests/\(request)/answer", token: liaison, json: #"{"answer": "Gửi kèm bản đồ", "document_ids": ["\#(document)"]}"#,
                        key: nil))
                #expect(answered.status == .ok, "\(answered.text)")
                #expect(try await client.send(.get("/v1/documents/\(document)", token: ward)).status == .ok)
                #expect(try await client.send(.get("/v1/documents/\(document)", token: coordinator)).status == .ok)
                #expect(try await client.send(.get("/v1/documents/\(document)", token: department)).status == .notFound)
                let departmentView = try await client.send(.get("/v1/findings/\(finding)", token: department)).json()
                #expect((departmentView["documents"] as? [[String: Any]])?.isEmpty == true)
                let wardView = try await client.send(.get("/v1/findings/\(finding)", token: ward)).json()
                #expect((wardView["documents"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [document])

                // The department transfers its task away: the finding is gone for it, its own task's history is not.
                let moved = try await client.send(
                    .post(
                        "/v1/tasks/\(departmentTask)/transfer", token: department,
                        json: #"{"agency": "so-xay-dung", "reason": "Công trình xây dựng"}"#, key: nil))
                #expect(moved.status == .ok, "\(moved.text)")
                #expect(try await client.send(.get("/v1/findings/\(finding)", token: department)).status == .notFound)
                #expect(try await client.send(.get("/v1/tasks/\(departmentTask)", token: department)).status == .ok)
                let newHolder = try await client.send(.get("/v1/findings/\(finding)", token: fixture.token("agency", "so-xay-dung")))
                #expect(try Self.tasks(newHolder).keys.sorted() == ["so-xay-dung"])
                #expect((try newHolder.json()["documents"] as? [[String: Any]])?.isEmpty == true)
                // Another agency's task is not found, and is not locked or read for it either.
                #expect(try await client.send(.post("/v1/tasks/\(wardTask)/start", token: department, json: "", key: nil)).status == .notFound)
                #expect(try await client.send(.get("/v1/tasks/\(wardTask)", token: department)).status == .notFound)
            }
        }
    }
}
