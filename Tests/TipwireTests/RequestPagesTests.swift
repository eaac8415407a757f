import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireCore

/// Information requests from pages: the newsroom answers an agency's request with documents, and asks
/// an agency a question that the agency answers, each through the same store as the API.
@Suite("Information requests on the desk and in the inbox")
struct RequestPagesTests {
    /// The action (with its `?csrf=` token) of the multipart form posting to `path` on `page`, and its key.
    static func multipartForm(_ path: String, on page: String) throws -> (action: String, key: String) {
        let start = try #require(page.range(of: "action=\"\(path)?csrf="), "no form with files for \(path)").lowerBound
        let action = String(page[page.index(start, offsetBy: 8)...].prefix { $0 != "\"" })
        return (action, try #require(InboxTests.hidden("key", inFormFor: action, page)))
    }

    /// A finding of tuoitre's whose task at ubnd-cau-giay waits on a request to the newsroom: the task
    /// and the request.
    static func requestToNewsroom(_ fixture: Fixture, _ client: some TestClientProtocol, officer: inout Browser) async throws -> (
        finding: String, task: String, request: String
    ) {
        let reply = try await client.send(.post("/v1/findings", token: fixture.token("liaison", "tuoitre"), json: findingJSON()))
        let finding = try #require(try reply.json()["id"] as? String)
        let tasks = try #require(try reply.json()["tasks"] as? [[String: Any]])
        let task = try #require(tasks.first { $0["agency"] as? String == "ubnd-cau-giay" }?["id"] as? String)
        #expect(try await officer.signIn(client, token: fixture.token("agency", "ubnd-cau-giay")))
        #expect(try await InboxTests.act(&officer, client, task: task, "acknowledge").status == .seeOther)
        let asked = try await InboxTests.act(
            &officer, client, task: task, "request-info", ["questions": "Xin bản đồ khu đất", "documents_wanted": "Bản đồ\nẢnh chụp"])
        #expect(asked.status == .seeOther)
        let request = try await fixture.client.query("SELECT id FROM info_requests WHERE task_id = \(UUID(uuidString: task))")[0].decode(
            column: 0, as: UUID.self)
        return (finding, task, request.lowercased)
    }

    @Test func theNewsroomAnswersARequestWithADocumentOnceAndTheAgencyReadsIt() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                var officer = Browser()
                let (_, task, request) = try await Self.requestToNewsroom(fixture, client, officer: &officer)
                var liaison = Browser()
                #expect(try await liaison.signIn(client, token: fixture.token("liaison", "tuoitre")))
                let list = try await liaison.get(client, "/desk/requests?lang=en")
                #expect(list.status == .ok)
                #expect(list.text.contains("href=\"/desk/requests/\(request)\""))
                let page = try await liaison.get(client, "/desk/requests/\(request)").text
                #expect(page.contains("Xin bản đồ khu đất") && page.contains("Bản đồ\nẢnh chụp"))
                #expect(page.contains("action=\"/desk/requests/\(request)/decline\""))
                let (action, key) = try Self.multipartForm("/desk/requests/\(request)/answer", on: page)
                let form = DeskTests.multipart(
                    [("answer", "Bản đồ đính kèm"), ("key", key)],
                    files: [("documents", "ban-do.pdf", "application/pdf", Array("%PDF-1.4 bản đồ".utf8))])
                // Sent twice (a double click): one answer, one document, and both land on the request's page.
                for _ in 0..<2 {
                    let sent = try await DeskTests.post(&liaison, client, action, form)
                    #expect(sent.status == .seeOther)
                    #expect(sent.headers[.location] == "/desk/requests/\(request)?done=1")
                }
                let stored = try await fixture.client.query(
                    "SELECT state, (SELECT count(*)::int FROM documents) FROM info_requests WHERE id = \(UUID(uuidString: request))")[0].decode(
                        (String, Int).self)
                #expect(stored.0 == "answered" && stored.1 == 1)
                let state = try await fixture.client.query("SELECT state FROM tasks WHERE id = \(UUID(uuidString: task))")[0].decode(
                    column: 0, as: String.self)
                #expect(state == "in_progress", "the answer resumes the task")
                let answered = try await liaison.get(client, "/desk/requests/\(request)").text
                #expect(!answered.contains("/answer?csrf="), "an answered request has no form")

                let seen = try await officer.get(client, "/inbox/requests?direction=to-newsroom").text
                #expect(seen.contains("href=\"/inbox/requests/\(request)\""))
                let read = try await officer.get(client, "/inbox/requests/\(request)").text
                #expect(read.contains("Bản đồ đính kèm"))
                #expect(!read.contains("action=\"/inbox/requests/\(request)/answer\""), "the agency does not answer its own request")
                let document = try #require(read.range(of: "href=\"/inbox/documents/")).upperBound
                let id = String(read[document...].prefix { $0 != "\"" })
                let download = try await officer.get(client, "/inbox/documents/\(id)")
                #expect(download.status == .ok && download.text == "%PDF-1.4 bản đồ")
            }
        }
    }

    @Test func theNewsroomAsksAnAgencyAndTheAgencyAnswersFromItsInbox() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let reply = try await client.send(.post("/v1/findings", token: fixture.token("liaison", "tuoitre"), json: findingJSON()))
                let finding = try #require(try reply.json()["id"] as? String)
                var liaison = Browser()
                #expect(try await liaison.signIn(client, token: fixture.token("liaison", "tuoitre")))
                let page = try await liaison.get(client, "/desk/findings/\(finding)").text
                let path = "/desk/findings/\(finding)/questions"
                let csrf = try #require(InboxTests.hidden("csrf", inFormFor: path, page))
                let key = try #require(InboxTests.hidden("key", inFormFor: path, page))
                // A blank question comes back beside its field.
                let blank = try await liaison.post(client, path, form: ["csrf": csrf, "key": key, "question": "  ", "agency": "ubnd-cau-giay"])
                #expect(blank.status == .unprocessableContent)
                #expect(blank.text.contains("id=\"ask-question-error\""))
                let asked = try await liaison.post(
                    client, path, form: ["csrf": csrf, "key": key, "question": "Kết quả kiểm tra đến đâu?", "agency": "ubnd-cau-giay"])
                #expect(asked.status == .seeOther)
                #expect(asked.headers[.location] == "/desk/requests?direction=to-agency&done=1")
                let request = try await fixture.client.query("SELECT id FROM info_requests WHERE direction = 'to-agency'")[0].decode(
                    column: 0, as: UUID.self
                ).lowercased

                var officer = Browser()
                #expect(try await officer.signIn(client, token: fixture.token("agency", "ubnd-cau-giay")))
                let inbox = try await officer.get(client, "/inbox/requests").text
                #expect(inbox.contains("href=\"/inbox/requests/\(request)\""), "an agency's requests page starts at the questions to it")
                let answerPath = "/inbox/requests/\(request)/answer"
                let question = try await officer.get(client, "/inbox/requests/\(request)").text
                let token = try #require(InboxTests.hidden("csrf", inFormFor: answerPath, question))
                let answerKey = try #require(InboxTests.hidden("key", inFormFor: answerPath, question))
                // Without its form token, a form changes nothing.
                #expect(try await officer.post(client, answerPath, form: ["key": answerKey, "answer": "x"]).status == .forbidden)
                let answered = try await officer.post(client, answerPath, form: ["csrf": token, "key": answerKey, "answer": "Đang xác minh hồ sơ"])
                #expect(answered.status == .seeOther)
                let read = try await liaison.get(client, "/desk/requests/\(request)?lang=en").text
                #expect(read.contains("Đang xác minh hồ sơ") && read.contains("Answered"))

                // Another agency, and the same agency on another's page, find nothing.
                var other = Browser()
                #expect(try await other.signIn(client, token: fixture.token("agency", "so-xay-dung")))
                #expect(try await other.get(client, "/inbox/requests/\(request)").status == .notFound)
                #expect(try await other.get(client, "/inbox/requests/not-a-uuid").status == .notFound)
                let csrfOther = try #require(Browser.csrf(try await other.get(client, "/inbox/requests").text))
                let forged = try await other.post(client, answerPath, form: ["csrf": csrfOther, "key": UUID().uuidString, "answer": "giả mạo"])
                #expect(forged.status == .notFound)
            }
        }
    }
}
