import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireAPI
import TipwireCore
import TipwireStore

@Suite("Findings and documents over HTTP", .timeLimit(.minutes(5)))
struct IngestTests {
    /// Uploads `text` as a document for the liaison and returns its id.
    static func upload(
        _ client: some TestClientProtocol, _ fixture: Fixture, _ text: String, newsroom: String = "tuoitre", type: String = "text/plain"
    ) async throws -> String {
        let reply = try await client.send(
            Call(method: .post, path: "/v1/documents", token: fixture.token("liaison", newsroom), body: Array(text.utf8), contentType: type))
        #expect(reply.status == .created || reply.status == .ok, "\(reply.text)")
        return try #require(try reply.json()["id"] as? String)
    }

    @Test func aLandFindingInCauGiayIsRoutedToTheDepartmentAndTheWardWithItsDocuments() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let first = try await Self.upload(client, fixture, "%PDF-1.7 biên bản kiểm tra", type: "application/octet-stream")
                let second = try await Self.upload(client, fixture, "Ảnh chụp hiện trạng khu đất")
                let reply = try await client.send(
                    .post("/v1/findings", token: fixture.token("liaison", "tuoitre"), json: findingJSON(documents: [first, second])))
                #expect(reply.status == .created, "\(reply.text)")
                let body = try reply.json()
                let tasks = try #require(body["tasks"] as? [[String: Any]])
                #expect(Set(tasks.compactMap { $0["agency"] as? String }) == ["so-nnmt", "ubnd-cau-giay"])
                #expect(tasks.allSatisfy { $0["state"] as? String == "assigned" && $0["routed_by"] as? String == "rule" })
                let documents = try #require(body["documents"] as? [[String: Any]])
                #expect(documents.map { $0["id"] as? String } == [first, second])
                #expect(documents.first?["media_type"] as? String == "application/pdf")
                #expect(documents.first?["url"] as? String == "\(Fixture.publicURL)/v1/documents/\(first)")
                #expect(body["accounted_for"] as? Bool == false)
                #expect(try await fixture.count("outbox") == 3)
                #expect(try await fixture.count("task_events") == 2)

                // Each responsible agency downloads the documents; a third agency and another newsroom see nothing.
                for agency in ["so-nnmt", "ubnd-cau-giay"] {
                    let download = try await client.send(.get("/v1/documents/\(first)", token: fixture.token("agency", agency)))
                    #expect(download.status == .ok)
                    #expect(download.text == "%PDF-1.7 biên bản kiểm tra")
                    #expect(download.headers[.contentType] == "application/pdf")
                }
                for token in [fixture.token("agency", "so-xay-dung"), fixture.token("liaison", "vnexpress")] {
                    let denied = try await client.send(.get("/v1/documents/\(first)", token: token))
                    #expect(denied.status == .notFound)
                    #expect(try denied.problemFields() == [])
                }
                // The finding is visible to its newsroom, the coordinator and its agencies, to no one else.
                let id = try #require(body["id"] as? String)
                for token in [fixture.token("liaison", "tuoitre"), fixture.token("coordinator", "thanh-tra-tp"), fixture.token("agency", "so-nnmt")] {
                    #expect(try await client.send(.get("/v1/findings/\(id)", token: token)).status == .ok)
                }
                for token in [fixture.token("liaison", "vnexpress"), fixture.token("agency", "cong-an-tp")] {
                    #expect(try await client.send(.get("/v1/findings/\(id)", token: token)).status == .notFound)
                }
            }
        }
    }

    /// The city itself has no parent jurisdiction; intake once lost it from its reference data and answered 422.
    @Test func aFindingAboutTheCityItselfIsAcceptedAndRoutedByTheCityWideRule() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let reply = try await client.send(
                    .post("/v1/findings", token: fixture.token("liaison", "tuoitre"), json: findingJSON(jurisdiction: "ha-noi")))
                #expect(reply.status == .created, "\(reply.text)")
                let tasks = try #require(try reply.json()["tasks"] as? [[String: Any]])
                #expect(tasks.compactMap { $0["agency"] as? String } == ["so-nnmt"])
            }
        }
    }

    @Test func documentsAreStoredOnceAndServedWithETagAndRanges() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let text = "0123456789abcdefghij"
                let id = try await Self.upload(client, fixture, text)
                #expect(try await Self.upload(client, fixture, text) == id)
                _ = try await Self.upload(client, fixture, text, newsroom: "vnexpress")
                #expect(try await fixture.count("document_blobs") == 1)
                #expect(try await fixture.count("documents") == 2)

                let token = fixture.token("liaison", "tuoitre")
                let whole = try await client.send(.get("/v1/documents/\(id)", token: token))
                let etag = try #require(whole.headers[.eTag])
                let cached = try await client.send(.get("/v1/documents/\(id)", token: token, headers: [.ifNoneMatch: etag]))
                #expect(cached.status == .notModified)
                let part = try await client.send(.get("/v1/documents/\(id)", token: token, headers: [.range: "bytes=2-5"]))
                #expect(part.status == .partialContent)
                #expect(part.text == "2345")
                #expect(part.headers[.contentRange] == "bytes 2-5/20")
                let suffix = try await client.send(.get("/v1/documents/\(id)", token: token, headers: [.range: "bytes=-3"]))
                #expect(suffix.text == "hij")
                let outside = try await client.send(.get("/v1/documents/\(id)", token: token, headers: [.range: "bytes=50-60"]))
                #expect(outside.status == .rangeNotSatisfiable)
                #expect(try outside.problemFields() == ["Range"])
            }
        }
    }

    @Test func theSameIdempotencyKeyReplaysAndADifferentBodyIsRefused() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let token = fixture.token("liaison", "tuoitre")
                let first = try await client.send(.post("/v1/findings", token: token, json: findingJSON(), key: "retry-1"))
                let again = try await client.send(.post("/v1/findings", token: token, json: findingJSON(), key: "retry-1"))
                #expect(first.status == .created)
                #expect(again.status == .created)
                #expect(again.body == first.body)
                #expect(again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                let before = try await fixture.tableCounts()
                let changed = try await client.send(.post("/v1/findings", token: token, json: findingJSON(title: "Khác"), key: "retry-1"))
                #expect(changed.status == .unprocessableContent)
                #expect(try changed.problemFields() == ["Idempotency-Key"])
                #expect(try await fixture.tableCounts() == before)
                #expect(try await fixture.count("findings") == 1)
                // Keys are per newsroom: another newsroom may use the same one.
                let other = try await client.send(
                    .post("/v1/findings", token: fixture.token("liaison", "vnexpress"), json: findingJSON(), key: "retry-1"))
                #expect(other.status == .created)
            }
        }
    }

    @Test func concurrentSubmissionsShareCommitsAndAllLand() async throws {
        try await Fixture.with(maxConnections: 4) { fixture in
            try await fixture.app().test(.router) { client in
                let token = fixture.token("liaison", "tuoitre")
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for index in 0..<120 {
                        group.addTask {
                            // Every fourth request repeats the key of the one before it. 120 requests at once on 4
                            // connections may be shed (503 overloaded): a client sends those again with the same key.
                            let key = "concurrent-\(index % 4 == 3 ? index - 1 : index)"
                            var status = HTTPResponse.Status.serviceUnavailable
                            for _ in 0..<100 where status == .serviceUnavailable {
                                status = try await client.send(.post("/v1/findings", token: token, json: findingJSON(), key: key)).status
                                if status == .serviceUnavailable { try await Task.sleep(for: .milliseconds(50)) }
                            }
                            return status
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses.allSatisfy { $0 == .created })
                #expect(try await fixture.count("findings") == 90)
                #expect(try await fixture.count("tasks") == 180)
                #expect(try await fixture.count("outbox") == 270)
            }
        }
    }

    /// Each bad request, the status it gets and the field its problem names.
    static let badFindings: [(String, String, HTTPResponse.Status, [String])] = [
        (
            "missing fields", #"{"title": "Chỉ có tiêu đề"}"#, .unprocessableContent,
            ["article_url", "published_at", "summary", "category", "jurisdiction"]
        ),
        ("unknown category", findingJSON(category: "astrology"), .unprocessableContent, ["category"]),
        ("unknown jurisdiction", findingJSON(jurisdiction: "quan-ba-dinh"), .unprocessableContent, ["jurisdiction"]),
        ("unknown subject agency", findingJSON(subject: "so-khong-co"), .unprocessableContent, ["subject_agency"]),
        (
            "bad URL", findingJSON().replacingOccurrences(of: "https://tuoitre.vn/dat-cong-cau-giay-2026.htm", with: "not a url"),
            .unprocessableContent, ["article_url"]
        ),
        (
            "future published_at", findingJSON().replacingOccurrences(of: "2026-11-20T08:30:00+07:00", with: "2099-01-01T00:00:00Z"),
            .unprocessableContent, ["published_at"]
        ),
        ("unknown document", findingJSON(documents: ["00000000-0000-4000-8000-000000000000"]), .unprocessableContent, ["document_ids[0]"]),
        ("not a document id", findingJSON(documents: ["x"]), .unprocessableContent, ["document_ids[0]"]),
        (
            "unknown field", #"{"article_url": 1, "colour": "red"}"#, .unprocessableContent,
            ["article_url", "colour", "published_at", "summary", "category", "jurisdiction", "title"]
        ),
        ("malformed JSON", #"{"title": "#, .badRequest, ["body"]),
        ("not an object", "[1, 2]", .unprocessableContent, ["body"]),
    ]

    @Test(arguments: badFindings.indices)
    func badFindingsAreRefusedNamingTheFieldAndWriteNothing(_ index: Int) async throws {
        let (name, json, status, fields) = Self.badFindings[index]
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let before = try await fixture.tableCounts()
                let reply = try await client.send(.post("/v1/findings", token: fixture.token("liaison", "tuoitre"), json: json))
                #expect(reply.status == status, "\(name): \(reply.text)")
                #expect(Set(try reply.problemFields()) == Set(fields), "\(name): \(reply.text)")
                #expect(try await fixture.tableCounts() == before, "\(name) wrote something")
            }
        }
    }

    @Test func requestsWithoutARightTokenKeyOrContentTypeAreRefused() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let before = try await fixture.tableCounts()
                let liaison = fixture.token("liaison", "tuoitre")
                // Another newsroom's document.
                let theirs = try await Self.upload(client, fixture, "tài liệu của VnExpress", newsroom: "vnexpress")
                let foreign = try await client.send(.post("/v1/findings", token: liaison, json: findingJSON(documents: [theirs])))
                #expect(foreign.status == .unprocessableContent)
                #expect(try foreign.problemFields() == ["document_ids[0]"])

                let missingToken = try await client.send(.post("/v1/findings", token: nil, json: findingJSON()))
                #expect(missingToken.status == .unauthorized)
                #expect(try missingToken.problemFields() == ["Authorization"])
                let unknownToken = try await client.send(.post("/v1/findings", token: BearerToken().text, json: findingJSON()))
                #expect(unknownToken.status == .unauthorized)
                let wrongRole = try await client.send(.post("/v1/findings", token: fixture.token("agency", "so-nnmt"), json: findingJSON()))
                #expect(wrongRole.status == .forbidden)
                let noKey = try await client.send(.post("/v1/findings", token: liaison, json: findingJSON(), key: nil))
                #expect(noKey.status == .badRequest)
                #expect(try noKey.problemFields() == ["Idempotency-Key"])
                var wrongType = Call.post("/v1/findings", token: liaison, json: findingJSON())
                wrongType.contentType = "text/plain"
                let typeReply = try await client.send(wrongType)
                #expect(typeReply.status == .unsupportedMediaType)
                #expect(try typeReply.problemFields() == ["Content-Type"])

                // A revoked token stops working at once.
                let revokedID = try await fixture.client.query(
                    "SELECT id FROM api_tokens WHERE newsroom_code = 'tuoitre'")[0].decode(column: 0, as: UUID.self)
                #expect(try await fixture.dependencies.stores.tokens.revoke(id: revokedID))
                let revoked = try await client.send(.post("/v1/findings", token: liaison, json: findingJSON()))
                #expect(revoked.status == .unauthorized)

                var after = try await fixture.tableCounts()
                after["documents"]! -= 1
                after["document_blobs"]! -= 1
                #expect(after == before)
            }
        }
    }

    @Test func anUploadOverTheCapIsRefusedWith413AndNothingStored() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let big = [UInt8](repeating: 0x41, count: 30 * 1_048_576)
                let reply = try await client.send(
                    Call(method: .post, path: "/v1/documents", token: fixture.token("liaison", "tuoitre"), body: big, contentType: "application/pdf"))
                #expect(reply.status == .contentTooLarge)
                #expect(try reply.problemFields() == ["body"])
                #expect(try await fixture.count("document_blobs") == 0)
                let empty = try await client.send(
                    Call(method: .post, path: "/v1/documents", token: fixture.token("liaison", "tuoitre"), body: [], contentType: "application/pdf"))
                #expect(empty.status == .unprocessableContent)
            }
        }
    }

    @Test func findingListsArePagedByCursorAndScopedToTheNewsroom() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let tuoitre = fixture.token("liaison", "tuoitre")
                for index in 0..<5 {
                    let category = index.isMultiple(of: 2) ? "land" : "construction"
                    _ = try await client.send(.post("/v1/findings", token: tuoitre, json: findingJSON(category: category)))
                }
                _ = try await client.send(.post("/v1/findings", token: fixture.token("liaison", "vnexpress"), json: findingJSON()))
                var seen: [String] = []
                var cursor: String?
                repeat {
                    let path = "/v1/findings?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                    let page = try await client.send(.get(path, token: tuoitre)).json()
                    let items = try #require(page["items"] as? [[String: Any]])
                    #expect(items.count <= 2)
                    seen += items.compactMap { $0["id"] as? String }
                    cursor = page["next_cursor"] as? String
                } while cursor != nil
                #expect(seen.count == 5)
                #expect(Set(seen).count == 5)
                let coordinator = try await client.send(.get("/v1/findings?limit=100", token: fixture.token("coordinator", "thanh-tra-tp"))).json()
                #expect((coordinator["items"] as? [Any])?.count == 6)
                let land = try await client.send(.get("/v1/findings?category=land", token: tuoitre)).json()
                #expect((land["items"] as? [Any])?.count == 3)
                let bad = try await client.send(.get("/v1/findings?limit=0&cursor=zzz", token: tuoitre))
                #expect(bad.status == .badRequest)
                #expect(Set(try bad.problemFields()) == ["limit", "cursor"])
            }
        }
    }

    @Test func unmatchedFindingsGoToTheCoordinatorAndSubjectsReachTheirSupervisor() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let token = fixture.token("liaison", "tuoitre")
                let health = try await client.send(.post("/v1/findings", token: token, json: findingJSON(category: "health"))).json()
                let healthTasks = try #require(health["tasks"] as? [[String: Any]])
                #expect(healthTasks.map { $0["agency"] as? String } == ["thanh-tra-tp"])
                #expect(healthTasks.first?["routed_by"] as? String == "coordinator-queue")

                let named = try await client.send(
                    .post("/v1/findings", token: token, json: findingJSON(category: "education", subject: "ubnd-dong-da"))
                ).json()
                let namedTasks = try #require(named["tasks"] as? [[String: Any]])
                #expect(namedTasks.map { $0["agency"] as? String } == ["thanh-tra-tp"])
                #expect(namedTasks.first?["routed_by"] as? String == "subject-supervisor")
            }
        }
    }

    @Test func theCoordinatorReassignsATaskAndTheNewAgencyIsToldThroughTheOutbox() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let finding = try await client.send(.post("/v1/findings", token: fixture.token("liaison", "tuoitre"), json: findingJSON())).json()
                let tasks = try #require(finding["tasks"] as? [[String: Any]])
                let ward = try #require(tasks.first { $0["agency"] as? String == "ubnd-cau-giay" }?["id"] as? String)
                let coordinator = fixture.token("coordinator", "thanh-tra-tp")
                let body = #"{"agency": "so-xay-dung", "reason": "Công trình xây dựng trái phép thuộc thẩm quyền Sở Xây dựng"}"#

                let forbidden = try await client.send(.post("/v1/tasks/\(ward)/reassign", token: fixture.token("agency", "so-nnmt"), json: body))
                #expect(forbidden.status == .forbidden)
                let moved = try await client.send(.post("/v1/tasks/\(ward)/reassign", token: coordinator, json: body))
                #expect(moved.status == .ok, "\(moved.text)")
                let reply = try moved.json()
                #expect((reply["task"] as? [String: Any])?["state"] as? String == "transferred")
                let task = try #require(reply["opened_task"] as? [String: Any])
                #expect(task["agency"] as? String == "so-xay-dung")
                #expect(task["previous_task_id"] as? String == ward)
                #expect(task["routed_by"] as? String == "reassignment")
                // task.assigned for the new agency, finding.update for the newsroom.
                #expect(try await fixture.count("outbox") == 5)

                let again = try await client.send(.post("/v1/tasks/\(ward)/reassign", token: coordinator, json: body))
                #expect(again.status == .conflict)
                let sibling = try #require(tasks.first { $0["agency"] as? String == "so-nnmt" }?["id"] as? String)
                let duplicate = try await client.send(.post("/v1/tasks/\(sibling)/reassign", token: coordinator, json: body))
                #expect(duplicate.status == .conflict)
                let unknown = try await client.send(
                    .post("/v1/tasks/\(sibling)/reassign", token: coordinator, json: #"{"agency": "so-khong-co", "reason": "x"}"#))
                #expect(try unknown.problemFields() == ["agency"])
                let missing = try await client.send(.post("/v1/tasks/\(UUID().uuidString)/reassign", token: coordinator, json: body))
                #expect(missing.status == .notFound)
            }
        }
    }
}
