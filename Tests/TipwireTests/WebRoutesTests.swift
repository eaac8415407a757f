import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TipwireCore
import TipwirePages

@testable import TipwireAPI

/// The one table of page routes (`WebRoutes.all`) is what the router serves and the navigation lists.
@Suite("Web routes")
struct WebRoutesTests {
    /// A concrete path of `route`: so-nnmt for a code, a random id.
    static func path(_ route: WebRoute) -> String {
        route.path.replacingOccurrences(of: "{code}", with: "so-nnmt").replacingOccurrences(of: "{id}", with: UUID().uuidString.lowercased())
    }

    /// The navigation of a page: what is between `<nav` and `</nav>`.
    static func navigation(_ page: String) -> Substring {
        guard let start = page.range(of: "<nav"), let end = page.range(of: "</nav>", range: start.upperBound..<page.endIndex) else { return "" }
        return page[start.lowerBound..<end.upperBound]
    }

    @Test func everyPageOpensForEveryRoleItNamesAndTheNavigationListsItsOwn() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let sessions: [(Role, String, String)] = [
                    (.coordinator, fixture.token("coordinator", "thanh-tra-tp"), "thanh-tra-tp"),
                    (.agency, fixture.token("agency", "so-nnmt"), "so-nnmt"), (.liaison, fixture.token("liaison", "tuoitre"), "tuoitre"),
                ]
                for (role, token, party) in sessions {
                    var browser = Browser()
                    #expect(try await browser.signIn(client, token: token), "\(role)")
                    for route in WebRoutes.all where route.method == .get && route.roles?.contains(role) == true {
                        let reply = try await browser.get(client, Self.path(route))
                        // A random id is the page's own "not found", never the router's.
                        let expected: [HTTPResponse.Status] = route.path.contains("{id}") ? [.notFound] : [.ok, .seeOther]
                        #expect(expected.contains(reply.status), "\(role) GET \(route.path): \(reply.status)")
                        #expect(
                            reply.status == .seeOther || reply.headers[.contentType]?.hasPrefix("text/") == true,
                            "\(role) GET \(route.path) is a page")
                    }
                    let navigation = Self.navigation(try await browser.get(client, SignInPages.home(for: role)).text)
                    for route in WebRoutes.all {
                        guard let menu = route.menu else { continue }
                        let href = route.path.replacingOccurrences(of: "{code}", with: party)
                        #expect(navigation.contains("href=\"\(href)\"") == menu.roles.contains(role), "\(role): \(href) in the navigation")
                    }
                    // Every form posted without its token changes nothing.
                    for route in WebRoutes.all where route.method == .post && route.roles?.contains(role) == true {
                        let reply = try await browser.post(client, Self.path(route), form: ["note": "x"])
                        #expect(reply.status == .forbidden, "\(role) POST \(route.path) without a form token: \(reply.status)")
                    }
                    #expect(browser.cookies["tipwire_session"] != nil, "still signed in after the refused forms")
                }
            }
        }
    }

    /// Signing in goes back to the page that asked for it only when the role may open it.
    @Test func signingInReturnsToThePageAskedForOnlyWhenTheRoleMayOpenIt() async throws {
        #expect(WebRoutes.opens("/dashboard/agencies/so-nnmt?period=2026-Q3", for: .coordinator))
        #expect(WebRoutes.opens("/inbox/tasks/0190", for: .agency))
        #expect(!WebRoutes.opens("/dashboard", for: .liaison))
        #expect(!WebRoutes.opens("/inbox", for: .coordinator))
        #expect(!WebRoutes.opens("/dashboard/sign-in", for: .agency))
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let cases = [
                    (fixture.token("liaison", "tuoitre"), "/dashboard", "/desk"),
                    (fixture.token("agency", "so-nnmt"), "/dashboard/overdue", "/dashboard/overdue"),
                    (fixture.token("coordinator", "thanh-tra-tp"), "/inbox", "/dashboard"),
                    (fixture.token("agency", "so-nnmt"), "https://evil.example/", "/inbox"),
                ]
                for (token, next, landing) in cases {
                    var browser = Browser()
                    let form = try await browser.get(client, "/dashboard/sign-in")
                    let reply = try await browser.post(
                        client, "/dashboard/sign-in", form: ["csrf": Browser.csrf(form.text) ?? "", "token": token, "next": next])
                    #expect(reply.headers[.location] == landing, "next=\(next)")
                }
            }
        }
    }

    /// A known path called with a method it does not take answers 405 from the same table.
    @Test func aPageCalledWithAnotherMethodAnswers405() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                for route in WebRoutes.all
                where route.method == .get && !WebRoutes.all.contains(where: { $0.path == route.path && $0.method == .post }) {
                    let reply = try await client.send(Call(method: .delete, path: Self.path(route), token: nil))
                    #expect(reply.status == .methodNotAllowed, "DELETE \(route.path): \(reply.status)")
                }
            }
        }
    }

    /// Every key the pages ask `Wording` for, in the templates (`t.key`) and in the code (`["key"]` on a
    /// wording), has both languages: a missing one would render as the key itself.
    @Test func everyWordingKeyThePagesUseExists() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sources = ["Sources/TipwirePages", "Sources/TipwireAPI/Web"].map { root.appendingPathComponent($0) }
        var used: Set<String> = []
        for directory in sources {
            for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) where name.hasSuffix(".swift") {
                let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
                for pattern in [#"\{\{[#/^]?t\.([a-z0-9-]+)\}\}"#, #"(?:wording|w|Wording\([^)]*\))\["([a-z0-9-]+)"\]"#] {
                    let expression = try NSRegularExpression(pattern: pattern)
                    for match in expression.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                        if let range = Range(match.range(at: 1), in: text) { used.insert(String(text[range])) }
                    }
                }
            }
        }
        #expect(used.count > 50, "the scan found the keys the pages use")
        let missing = used.subtracting(Wording.texts.keys)
        #expect(missing.isEmpty, "keys without wording: \(missing.sorted())")
        for route in WebRoutes.all { if let menu = route.menu { #expect(Wording.texts[menu.key] != nil, "menu key \(menu.key)") } }
        for role in Role.allCases where WebRoutes.signIn.contains(role) { #expect(Wording.texts["role-\(role.rawValue)"] != nil) }
    }
}
