import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireCore
import TipwirePages
import TipwireStore

/// A browser's side of the dashboard: cookies kept between requests, forms posted.
struct Browser {
    var cookies: [String: String] = [:]

    mutating func get(_ client: some TestClientProtocol, _ path: String) async throws -> Reply {
        try await send(client, Call.get(path, token: nil))
    }

    mutating func post(_ client: some TestClientProtocol, _ path: String, form: [String: String]) async throws -> Reply {
        let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await send(
            client, Call(method: .post, path: path, token: nil, body: Array(body.utf8), contentType: "application/x-www-form-urlencoded"))
    }

    mutating func send(_ client: some TestClientProtocol, _ call: Call) async throws -> Reply {
        var call = call
        if !cookies.isEmpty { call.headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        let reply = try await client.send(call)
        for header in reply.headers[values: .setCookie] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0])
            let value = pair.count > 1 ? String(pair[1]) : ""
            if value.isEmpty || header.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        return reply
    }

    /// The value of the first hidden `csrf` field on the page.
    static func csrf(_ page: String) -> String? {
        guard let range = page.range(of: #"name="csrf" value=""#) else { return nil }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }

    /// Signs in with `token`; true when the dashboard let it in.
    mutating func signIn(_ client: some TestClientProtocol, token: String) async throws -> Bool {
        let form = try await get(client, "/dashboard/sign-in")
        let reply = try await post(client, "/dashboard/sign-in", form: ["csrf": Self.csrf(form.text) ?? "", "token": token, "next": "/dashboard"])
        return reply.status == .seeOther && cookies["tipwire_session"] != nil
    }
}

@Suite("Dashboard")
struct DashboardTests {
    static let pages = [
        "/dashboard", "/dashboard/agencies", "/dashboard/agencies/so-nnmt", "/dashboard/tasks", "/dashboard/tasks?agency=so-nnmt&open=1",
        "/dashboard/overdue", "/dashboard/escalations", "/dashboard/scorecard?year=2026", "/dashboard/scorecard.csv?year=2026",
    ]

    @Test func withoutASessionEveryPageGoesToSignInAndFormsAreRefused() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                var browser = Browser()
                for page in Self.pages {
                    let reply = try await browser.get(client, page)
                    #expect(reply.status == .seeOther, "\(page)")
                    #expect(reply.headers[.location]?.hasPrefix("/dashboard/sign-in?next=") == true, "\(page)")
                }
                let post = try await browser.post(client, "/dashboard/escalations/\(UUID())/acknowledge", form: ["note": "x", "csrf": "x"])
                #expect(post.status == .forbidden)
                // Tokens of other roles, bad tokens and a missing form token do not sign in.
                for token in [fixture.token("auditor"), fixture.token("admin"), "tw_nope", ""] {
                    let signedIn = try await browser.signIn(client, token: token)
                    #expect(!signedIn)
                }
                _ = try await browser.get(client, "/dashboard/sign-in")
                let forged = try await browser.post(
                    client, "/dashboard/sign-in", form: ["csrf": "forged", "token": fixture.token("coordinator", "thanh-tra-tp")])
                #expect(forged.status == .forbidden && browser.cookies["tipwire_session"] == nil)
            }
        }
    }

    @Test func aCoordinatorSeesEveryPageInBothLanguagesAndSignsOut() async throws {
        try await Fixture.with { fixture in
            _ = try await LatencyTests.writeKnownHistory(fixture)
            try await fixture.app().test(.router) { client in
                var browser = Browser()
                #expect(try await browser.signIn(client, token: fixture.token("coordinator", "thanh-tra-tp")))
                for language in ["en", "vi"] {
                    _ = try await browser.get(client, "/dashboard?lang=\(language)")
                    #expect(browser.cookies["tipwire_lang"] == language, "the choice is remembered")
                    for page in Self.pages {
                        let reply = try await browser.get(client, page + (page.contains("?") ? "&" : "?") + "from=2026-01-01&to=2026-03-31")
                        #expect(reply.status == .ok, "\(page) \(language): \(reply.status)")
                        if page.hasSuffix(".csv?year=2026") {
                            #expect(reply.headers[.contentType]?.hasPrefix("text/csv") == true)
                            continue
                        }
                        #expect(reply.text.contains("<html lang=\"\(language)\">"), "\(page)")
                        #expect(!reply.text.contains(">nil<") && !reply.text.contains("(nil"), "\(page)")
                    }
                }
                // The agencies table in English: so-nnmt's figures, written the English way.
                let table = try await browser.get(client, "/dashboard/agencies?from=2026-01-01&to=2026-03-31&lang=en")
                #expect(table.text.contains("90%"))
                #expect(table.text.contains("1 working day"))
                let vietnamese = try await browser.get(client, "/dashboard/agencies?from=2026-01-01&to=2026-03-31&lang=vi")
                #expect(vietnamese.text.contains("1 ngày làm việc"))
                #expect(vietnamese.text.contains("không đủ dữ liệu"))
                // Sorting by a column marks it for assistive technology.
                let sorted = try await browser.get(client, "/dashboard/agencies?from=2026-01-01&to=2026-03-31&sort=tasks&dir=desc")
                #expect(sorted.text.contains(#"aria-sort="descending""#))

                // Acknowledge the overdue notice from the escalations page.
                let page = try await browser.get(client, "/dashboard/escalations?state=open")
                let csrf = try #require(Browser.csrf(page.text))
                let id = try await fixture.client.query("SELECT id FROM deadline_rungs LIMIT 1")[0].decode(column: 0, as: UUID.self)
                let missing = try await browser.post(
                    client, "/dashboard/escalations/\(id.lowercased)/acknowledge", form: ["csrf": csrf, "note": "  "])
                #expect(missing.status == .badRequest)
                let forged = try await browser.post(
                    client, "/dashboard/escalations/\(id.lowercased)/acknowledge", form: ["csrf": "x", "note": "Đã nhắc"])
                #expect(forged.status == .forbidden)
                let done = try await browser.post(
                    client, "/dashboard/escalations/\(id.lowercased)/acknowledge", form: ["csrf": csrf, "note": "Đã nhắc sở"])
                #expect(done.status == .seeOther && done.headers[.location] == "/dashboard/escalations?done=1")
                let by = try await fixture.client.query("SELECT acknowledged_by, note FROM deadline_rungs WHERE id = \(id)")[0].decode(
                    (String?, String?).self)
                #expect(by.0?.hasPrefix("coordinator:thanh-tra-tp") == true && by.1 == "Đã nhắc sở")
                let again = try await browser.post(
                    client, "/dashboard/escalations/\(id.lowercased)/acknowledge", form: ["csrf": csrf, "note": "Lần nữa"])
                #expect(again.status == .conflict)

                // Bad input: friendly pages, never a 500.
                for (path, status) in [
                    ("/dashboard?from=2026-05-01&to=2026-01-01", HTTPResponse.Status.badRequest), ("/dashboard?lang=fr", .badRequest),
                    ("/dashboard/agencies/no-such-agency", .notFound), ("/dashboard/agencies/NOT%20A%20CODE", .notFound),
                    ("/dashboard/scorecard?year=99999", .badRequest), ("/dashboard/tasks?cursor=%00", .badRequest),
                    ("/dashboard/tasks?agency=%F0%9F%92%A5", .badRequest),
                ] {
                    let reply = try await browser.get(client, path)
                    #expect(reply.status == status, "\(path): \(reply.status)")
                    #expect(reply.headers[.contentType]?.hasPrefix("text/html") == true, "\(path)")
                }

                let signOutForm = try await browser.get(client, "/dashboard")
                let out = try await browser.post(client, "/dashboard/sign-out", form: ["csrf": Browser.csrf(signOutForm.text) ?? ""])
                #expect(out.status == .seeOther)
                #expect(try await browser.get(client, "/dashboard").status == .seeOther)
            }
        }
    }

    @Test func anAgencySessionSeesOnlyItsOwnFigures() async throws {
        try await Fixture.with { fixture in
            _ = try await LatencyTests.writeKnownHistory(fixture)
            try await fixture.app().test(.router) { client in
                var browser = Browser()
                #expect(try await browser.signIn(client, token: fixture.token("agency", "ubnd-cau-giay")))
                let own = try await browser.get(client, "/dashboard/agencies/ubnd-cau-giay?from=2026-01-01&to=2026-03-31")
                #expect(own.status == .ok)
                #expect(try await browser.get(client, "/dashboard/agencies/so-nnmt").status == .notFound)
                #expect(try await browser.get(client, "/dashboard/agencies").headers[.location] == "/dashboard/agencies/ubnd-cau-giay")
                let overview = try await browser.get(client, "/dashboard?from=2026-01-01&to=2026-03-31")
                #expect(!overview.text.contains("so-nnmt"))
                let tasks = try await browser.get(client, "/dashboard/tasks?agency=so-nnmt")
                #expect(!tasks.text.contains(">so-nnmt<"))
                let scorecard = try await browser.get(client, "/dashboard/scorecard.csv?year=2026")
                #expect(scorecard.text.contains("ubnd-cau-giay") && !scorecard.text.contains("so-nnmt"))
                // An agency may not acknowledge escalations.
                let csrf = Browser.csrf(overview.text) ?? ""
                let id = try await fixture.client.query("SELECT id FROM deadline_rungs LIMIT 1")[0].decode(column: 0, as: UUID.self)
                let refused = try await browser.post(
                    client, "/dashboard/escalations/\(id.lowercased)/acknowledge", form: ["csrf": csrf, "note": "x"])
                #expect(refused.status == .forbidden)
            }
        }
    }

    @Test func theScorecardComesAsJSONCSVAndAPrintablePage() async throws {
        try await Fixture.with { fixture in
            _ = try await LatencyTests.writeKnownHistory(fixture)
            try await fixture.app().test(.router) { client in
                let coordinator = fixture.token("coordinator", "thanh-tra-tp")
                let csv = try await client.send(.get("/v1/scorecards/2026?format=csv&lang=en", token: coordinator))
                #expect(csv.status == .ok && csv.headers[.contentType]?.hasPrefix("text/csv") == true)
                let lines = csv.text.split(separator: "\r\n").map(String.init)
                #expect(lines.first?.hasPrefix("# Source: tipwire's task event log") == true)
                #expect(lines.contains { $0.hasPrefix("# Working days exclude weekends and the year's 19 public holidays") })
                let header = try #require(lines.first { !$0.hasPrefix("#") })
                #expect(header == Scorecard.csvHeader.joined(separator: ","))
                // Every agency has a row; so-nnmt: 10 tasks, acknowledge p50 1 and p90 7 working days, 90% on time, resolve withheld.
                #expect(lines.filter { !$0.hasPrefix("#") }.count == 1 + DemoData.agencies.count)
                let nnmt = try #require(lines.first { $0.hasPrefix("so-nnmt,") })
                #expect(nnmt.hasSuffix(",10,10,1,7,90.0,1,4,,,,6,1,0,0,1,40.0,false"), "\(nnmt)")
                let accepted = try await client.send(
                    Call.get("/v1/scorecards/2026", token: coordinator, headers: [.accept: "text/html"]))
                #expect(accepted.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(accepted.text.contains("Bảng đánh giá năm 2026") && accepted.text.contains("Phương pháp"))
                let json = try await client.send(.get("/v1/scorecards/2026", token: coordinator))
                #expect(json.headers[.contentType] == "application/json")
                #expect(try (json.json()["rows"] as? [Any])?.count == DemoData.agencies.count)
                let agency = try await client.send(.get("/v1/scorecards/2026?format=csv", token: fixture.token("agency", "so-nnmt")))
                #expect(agency.text.split(separator: "\r\n").filter { !$0.hasPrefix("#") }.count == 2)
                for (path, field) in [
                    ("/v1/scorecards/1999", "year"), ("/v1/scorecards/twenty", "year"), ("/v1/scorecards/2026?format=pdf", "format"),
                ] {
                    let reply = try await client.send(.get(path, token: coordinator))
                    let fields = try reply.problemFields()
                    #expect(reply.status == .badRequest && fields == [field], "\(path)")
                }
                #expect(try await client.send(.get("/v1/scorecards/2026", token: fixture.token("liaison", "tuoitre"))).status == .forbidden)
            }
        }
    }

    @Test func everyWordHasBothLanguagesAndNumbersFollowTheReader() throws {
        for (key, pair) in Wording.texts {
            #expect(!pair.vi.isEmpty && !pair.en.isEmpty, "\(key)")
        }
        #expect(Wording(.vietnamese).integer(1_234_567) == "1.234.567")
        #expect(Wording(.english).integer(1_234_567) == "1,234,567")
        #expect(Wording(.vietnamese).percent(0.935) == "93,5%")
        #expect(Wording(.english).percent(0.935) == "93.5%")
        #expect(Wording(.english).workingDays(1) == "1 working day")
        #expect(Wording(.vietnamese).workingDays(2.5) == "2,5 ngày làm việc")
        #expect(Wording(.vietnamese).date(History.hanoi("2026-03-20 23:30")) == "20/03/2026")
        #expect(Wording(.english).dateTime(History.hanoi("2026-03-20 23:30")) == "20 Mar 2026, 23:30")
        #expect(Wording(.english).month("2026-02") == "Feb 2026")
        #expect(Wording(.vietnamese).month("2026-02") == "Th2 2026")
        let pages = try Pages()
        let reader = Reader(language: .english, label: nil, csrf: "c", agency: nil, path: "/dashboard/sign-in")
        let html = pages.signIn(reader: reader, next: "/dashboard\"><script>", error: "<b>bad</b>")
        #expect(html.contains("&lt;b&gt;bad&lt;/b&gt;") && !html.contains("<script>"))
    }
}
