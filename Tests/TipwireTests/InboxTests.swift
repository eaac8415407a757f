import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireCore

/// The agency's inbox: an officer works a task from pages alone, through the same lifecycle as the API.
@Suite("Agency inbox")
struct InboxTests {
    /// The value of the hidden field `name` in the form that posts to `action`.
    static func hidden(_ name: String, inFormFor action: String, _ page: String) -> String? {
        guard let form = page.range(of: "action=\"\(action)\"") else { return nil }
        let rest = page[form.upperBound...]
        guard let field = rest.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(rest[field.upperBound...].prefix { $0 != "\"" })
    }

    /// Posts the form of `action` on `task`'s page with `fields`, its token and its idempotency key.
    static func act(
        _ browser: inout Browser, _ client: some TestClientProtocol, task: String, _ action: String, _ fields: [String: String] = [:],
        key: String? = nil
    ) async throws -> Reply {
        let page = try await browser.get(client, "/inbox/tasks/\(task)").text
        let path = "/inbox/tasks/\(task)/\(action)"
        let csrf = try #require(hidden("csrf", inFormFor: path, page), "no form for \(action) on the task page")
        let formKey = key ?? hidden("key", inFormFor: path, page) ?? ""
        return try await browser.post(client, path, form: fields.merging(["csrf": csrf, "key": formKey]) { $1 })
    }

    @Test func anOfficerWorksATaskFromTheInboxToItsResolution() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let upload = try await client.send(
                    Call(
                        method: .post, path: "/v1/documents", token: fixture.token("liaison", "tuoitre"), body: Array("%PDF-1.4 biên bản".utf8),
                        contentType: "application/pdf"))
                let document = try #require(try upload.json()["id"] as? String)
                let reply = try await client.send(
                    .post("/v1/findings", token: fixture.token("liaison", "tuoitre"), json: findingJSON(documents: [document])))
                let tasks = try #require(try reply.json()["tasks"] as? [[String: Any]])
                let task = try #require(tasks.first { $0["agency"] as? String == "ubnd-cau-giay" }?["id"] as? String)

                var officer = Browser()
                let signIn = try await browser(&officer, client, token: fixture.token("agency", "ubnd-cau-giay"))
                #expect(signIn.headers[.location] == "/inbox", "an agency starts at its inbox")
                let inbox = try await officer.get(client, "/inbox?lang=en")
                #expect(inbox.status == .ok)
                #expect(inbox.text.contains("href=\"/inbox/tasks/\(task)\""))
                #expect(inbox.text.contains("Đất công bị chiếm dụng ở Cầu Giấy"))

                let page = try await officer.get(client, "/inbox/tasks/\(task)")
                #expect(page.text.contains("href=\"/inbox/documents/\(document)\""))
                let download = try await officer.get(client, "/inbox/documents/\(document)")
                #expect(download.status == .ok && download.text == "%PDF-1.4 biên bản")

                #expect(try await Self.act(&officer, client, task: task, "acknowledge", ["note": "Đã tiếp nhận"]).status == .seeOther)
                #expect(try await Self.act(&officer, client, task: task, "start").status == .seeOther)
                // A bad field comes back next to its input, with what was typed.
                let bad = try await Self.act(&officer, client, task: task, "extend", ["days": "many", "reason": "Cần xác minh"])
                #expect(bad.status == .unprocessableContent)
                #expect(bad.text.contains("id=\"act-extend-days-error\""))
                #expect(bad.text.contains(">Cần xác minh</textarea>"))
                // A form sent twice (a double click, or back and resend) extends once.
                let again = try await officer.get(client, "/inbox/tasks/\(task)").text
                let key = try #require(Self.hidden("key", inFormFor: "/inbox/tasks/\(task)/extend", again))
                for _ in 0..<2 {
                    let sent = try await Self.act(&officer, client, task: task, "extend", ["days": "5", "reason": "Cần xác minh"], key: key)
                    #expect(sent.status == .seeOther)
                }
                let extended = try await fixture.client.query(
                    "SELECT count(*)::int FROM task_events WHERE task_id = \(UUID(uuidString: task)) AND kind = 'extended'")[0].decode(
                        column: 0, as: Int.self)
                #expect(extended == 1)
                // The lifecycle's rules hold here too: a second acknowledgement is not possible.
                let resolved = try await Self.act(
                    &officer, client, task: task, "resolve", ["outcome": "partly_substantiated", "summary": "Sai phạm một phần, đã xử lý"])
                #expect(resolved.status == .seeOther)
                let done = try await officer.get(client, "/inbox/tasks/\(task)?lang=vi")
                #expect(done.text.contains("Đã xử lý xong"))
                #expect(!done.text.contains("action=\"/inbox/tasks/\(task)/acknowledge\""))
                let after = try await officer.get(client, "/inbox")
                #expect(!after.text.contains("href=\"/inbox/tasks/\(task)\""), "a resolved task leaves the inbox")
            }
        }
    }

    @Test func anotherAgencysTaskAndDocumentsAreNotFound() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let upload = try await client.send(
                    Call(
                        method: .post, path: "/v1/documents", token: fixture.token("liaison", "tuoitre"), body: Array("%PDF-1.4 x".utf8),
                        contentType: "application/pdf"))
                let document = try #require(try upload.json()["id"] as? String)
                let reply = try await client.send(
                    .post("/v1/findings", token: fixture.token("liaison", "tuoitre"), json: findingJSON(documents: [document])))
                let tasks = try #require(try reply.json()["tasks"] as? [[String: Any]])
                let task = try #require(tasks.first { $0["agency"] as? String == "ubnd-cau-giay" }?["id"] as? String)

                var other = Browser()
                _ = try await browser(&other, client, token: fixture.token("agency", "so-xay-dung"))
                #expect(try await other.get(client, "/inbox/tasks/\(task)").status == .notFound)
                #expect(try await other.get(client, "/inbox/documents/\(document)").status == .notFound)
                #expect(try await other.get(client, "/inbox/tasks/not-a-uuid").status == .notFound)
                let inbox = try await other.get(client, "/inbox").text
                let csrf = try #require(Browser.csrf(inbox))
                let forged = try await other.post(client, "/inbox/tasks/\(task)/acknowledge", form: ["csrf": csrf, "key": UUID().uuidString])
                #expect(forged.status == .notFound)
                let events = try await fixture.client.query("SELECT count(*)::int FROM task_events WHERE task_id = \(UUID(uuidString: task))")[0]
                    .decode(column: 0, as: Int.self)
                #expect(events == 1, "only the assignment")
                // A coordinator's session has no inbox.
                var coordinator = Browser()
                _ = try await browser(&coordinator, client, token: fixture.token("coordinator", "thanh-tra-tp"))
                #expect(try await coordinator.get(client, "/inbox").status == .seeOther)
            }
        }
    }

    /// The agency a finding accuses never handles it, and its inbox neither lists it nor opens it.
    @Test func theAccusedAgencyCannotOpenItsOwnAccusation() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let reply = try await client.send(
                    .post("/v1/findings", token: fixture.token("liaison", "tuoitre"), json: findingJSON(subject: "so-nnmt")))
                let tasks = try #require(try reply.json()["tasks"] as? [[String: Any]])
                #expect(!tasks.contains { $0["agency"] as? String == "so-nnmt" }, "never routed to the agency it concerns")
                let task = try #require(tasks.first?["id"] as? String)
                var accused = Browser()
                #expect(try await accused.signIn(client, token: fixture.token("agency", "so-nnmt")))
                #expect(!(try await accused.get(client, "/inbox").text.contains(task)))
                #expect(try await accused.get(client, "/inbox/tasks/\(task)").status == .notFound)
                let csrf = try #require(Browser.csrf(try await accused.get(client, "/inbox").text))
                let forged = try await accused.post(client, "/inbox/tasks/\(task)/acknowledge", form: ["csrf": csrf, "key": UUID().uuidString])
                #expect(forged.status == .notFound)
            }
        }
    }

    @Test func overdueTasksComeFirst() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                var ids: [String] = []
                for title in ["Tin báo thứ nhất", "Tin báo thứ hai", "Tin báo thứ ba"] {
                    let reply = try await client.send(
                        .post("/v1/findings", token: fixture.token("liaison", "tuoitre"), json: findingJSON(title: title)))
                    let tasks = try #require(try reply.json()["tasks"] as? [[String: Any]])
                    ids.append(try #require(tasks.first { $0["agency"] as? String == "ubnd-cau-giay" }?["id"] as? String))
                }
                var officer = Browser()
                _ = try await browser(&officer, client, token: fixture.token("agency", "ubnd-cau-giay"))
                for id in ids { #expect(try await Self.act(&officer, client, task: id, "acknowledge").status == .seeOther) }
                // The third's resolve clock is past due, the first's due soonest after it.
                try await fixture.client.execute(
                    "UPDATE deadlines SET due_at = now() - interval '3 days' WHERE task_id = \(UUID(uuidString: ids[2])) AND stage = 'resolve'")
                try await fixture.client.execute(
                    "UPDATE deadlines SET due_at = now() + interval '1 day' WHERE task_id = \(UUID(uuidString: ids[0])) AND stage = 'resolve'")
                let page = try await officer.get(client, "/inbox?lang=en").text
                let positions = try ids.map { id in try #require(page.range(of: "/inbox/tasks/\(id)")?.lowerBound) }
                #expect(positions[2] < positions[0] && positions[0] < positions[1])
                #expect(page.contains("class=\"late\""))
            }
        }
    }

    /// Signs in with `token`; the sign-in's answer.
    private func browser(_ browser: inout Browser, _ client: some TestClientProtocol, token: String) async throws -> Reply {
        let form = try await browser.get(client, "/dashboard/sign-in")
        return try await browser.post(client, "/dashboard/sign-in", form: ["csrf": Browser.csrf(form.text) ?? "", "token": token, "next": ""])
    }
}
