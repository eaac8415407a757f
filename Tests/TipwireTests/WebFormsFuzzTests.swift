import Foundation
import Fuzzing
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireCore

/// Every form of the desk, the inbox and the dashboard, sent with the fuzz corpus's worst strings as
/// its values: an answer for each, a page (4xx, or the form done), never a 500.
@Suite("The pages' forms under hostile values")
struct WebFormsFuzzTests {
    /// A form: who sends it, where, and the fields it has.
    struct Form {
        var role: String
        var path: String
        var fields: [String]
        var multipart = false
    }

    @Test func everyFormAnswersEveryHostileValueWithAPage() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                // Something for each form to act on: a finding with a task, a request each way, a
                // disclosure request and a protection case.
                let handle = try await DisclosureHTTPTests.sealedFinding(client, fixture)
                let finding = try await fixture.client.query("SELECT id FROM findings")[0].decode(column: 0, as: UUID.self).lowercased
                let task = try await fixture.client.query("SELECT id FROM tasks WHERE agency_code = 'ubnd-cau-giay'")[0].decode(
                    column: 0, as: UUID.self
                ).lowercased
                var officer = Browser()
                #expect(try await officer.signIn(client, token: fixture.token("agency", "ubnd-cau-giay")))
                #expect(try await InboxTests.act(&officer, client, task: task, "acknowledge").status == .seeOther)
                #expect(try await InboxTests.act(&officer, client, task: task, "request-info", ["questions": "Bản đồ?"]).status == .seeOther)
                let toNewsroom = try await fixture.client.query("SELECT id FROM info_requests")[0].decode(column: 0, as: UUID.self).lowercased
                let asked = try await client.send(
                    .post("/v1/findings/\(finding)/questions", token: fixture.token("liaison", "tuoitre"), json: #"{"question":"Đến đâu rồi?"}"#))
                #expect(asked.status == .created)
                let toAgency = try await fixture.client.query("SELECT id FROM info_requests WHERE direction = 'to-agency'")[0].decode(
                    column: 0, as: UUID.self
                ).lowercased
                let filed = try await client.send(
                    .post(
                        "/v1/disclosure-requests", token: fixture.token("agency", "vks-tp"),
                        json: DisclosureHTTPTests.request(handle: handle, basis: "press-law-2025", dated: "2026-11-30")))
                let disclosure = try #require(try filed.json()["id"] as? String)
                let opened = try await client.send(
                    .post(
                        "/v1/protection-cases", token: fixture.token("liaison", "tuoitre"),
                        json: #"{"person":"source","retaliation":"threat","jurisdiction":"cau-giay"}"#))
                let protection = try #require(try opened.json()["id"] as? String)

                let forms = [
                    Form(
                        role: "liaison", path: "/desk/findings",
                        fields: [
                            "title", "article_url", "published_at", "summary", "category", "jurisdiction", "subject_agency", "source_envelope_sealed",
                        ],
                        multipart: true),
                    Form(role: "liaison", path: "/desk/findings/\(finding)/questions", fields: ["question", "agency"]),
                    Form(role: "liaison", path: "/desk/requests/\(toNewsroom)/answer", fields: ["answer"], multipart: true),
                    Form(role: "liaison", path: "/desk/requests/\(toNewsroom)/decline", fields: ["reason"]),
                    Form(role: "liaison", path: "/desk/disclosures/\(disclosure)/decision", fields: ["decision", "reason"]),
                    Form(
                        role: "liaison", path: "/desk/protection", fields: ["person", "retaliation", "jurisdiction", "finding_id"], multipart: true),
                    Form(role: "agency:ubnd-cau-giay", path: "/inbox/tasks/\(task)/extend", fields: ["days", "reason"]),
                    Form(role: "agency:ubnd-cau-giay", path: "/inbox/tasks/\(task)/transfer", fields: ["agency", "reason"]),
                    Form(role: "agency:ubnd-cau-giay", path: "/inbox/tasks/\(task)/resolve", fields: ["outcome", "summary"]),
                    Form(role: "agency:ubnd-cau-giay", path: "/inbox/tasks/\(task)/decline", fields: ["reason"]),
                    Form(role: "agency:ubnd-cau-giay", path: "/inbox/requests/\(toAgency)/answer", fields: ["answer"]),
                    Form(
                        role: "agency:vks-tp", path: "/inbox/disclosures",
                        fields: ["source_handle", "legal_basis", "crime_class", "case_reference", "dated"], multipart: true),
                    Form(role: "agency:cong-an-tp", path: "/inbox/protection/\(protection)/resolve", fields: ["outcome", "note"]),
                ]
                var browsers: [String: Browser] = [:]
                var answered = 0
                for form in forms {
                    var browser = browsers[form.role] ?? Browser()
                    if browsers[form.role] == nil {
                        let (role, code) = form.role.contains(":") ? ("agency", String(form.role.split(separator: ":")[1])) : ("liaison", "tuoitre")
                        #expect(try await browser.signIn(client, token: fixture.token(role, code)))
                    }
                    let csrf = try #require(Browser.csrf(try await browser.get(client, form.role == "liaison" ? "/desk" : "/inbox").text))
                    for piece in HostileInput.pieces {
                        var values = Dictionary(uniqueKeysWithValues: form.fields.map { ($0, piece) })
                        values["key"] = UUID().uuidString
                        let reply: Reply
                        if form.multipart {
                            let body = DeskTests.multipart(values.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, files: [])
                            reply = try await DeskTests.post(&browser, client, "\(form.path)?csrf=\(csrf)", body)
                        } else {
                            values["csrf"] = csrf
                            reply = try await browser.post(client, form.path, form: values)
                        }
                        answered += 1
                        #expect(
                            reply.status.code < 500,
                            "\(form.path) with \(piece.debugDescription.prefix(40)): \(reply.status) \(reply.text.prefix(300))")
                        if reply.status != .seeOther {
                            #expect(
                                reply.headers[.contentType] == "text/html; charset=utf-8",
                                "\(form.path): a page, not \(reply.headers[.contentType] ?? "-")")
                        }
                    }
                    browsers[form.role] = browser
                }
                // And the sign-in form, before any session.
                for piece in HostileInput.pieces {
                    var visitor = Browser()
                    let csrf = Browser.csrf(try await visitor.get(client, "/dashboard/sign-in").text) ?? ""
                    let reply = try await visitor.post(client, "/dashboard/sign-in", form: ["csrf": csrf, "token": piece, "next": piece])
                    answered += 1
                    #expect(reply.status == .unauthorized, "sign-in with \(piece.debugDescription.prefix(40)): \(reply.status)")
                }
                #expect(answered == (forms.count + 1) * HostileInput.pieces.count)
            }
        }
    }
}
