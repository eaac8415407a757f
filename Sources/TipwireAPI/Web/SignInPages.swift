import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwirePages
import TipwireStore

/// Signing in (a token exchanged for a session cookie) and out: the pages every role starts from.
struct SignInPages: Sendable {
    let stores: TipwireStores
    let pages: Pages

    var handlers: [String: WebRoutes.Handler] {
        ["GET /dashboard/sign-in": signInPage, "POST /dashboard/sign-in": signIn, "POST /dashboard/sign-out": signOut]
    }

    /// Where a role's pages start.
    static func home(for role: Role) -> String {
        switch role {
        case .agency: "/inbox"
        case .liaison: "/desk"
        default: "/dashboard"
        }
    }

    @Sendable func signInPage(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let language = (try? Web.language(request)) ?? .vietnamese
        return signInForm(request, language: language, error: nil)
    }

    func signInForm(_ request: Request, language: Language, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        // The sign-in form has no session yet: its form token is a random value in a cookie and in the form (double submit).
        let csrf = SessionStore.randomText()
        let next = Web.safeNext(request.uri.queryParameters.get("next"), home: "")
        let reader = Reader(language: language, label: nil, csrf: csrf, agency: nil, path: Web.pathWithoutLanguage(request))
        var response = Web.html(status, pages.signIn(reader: reader, next: next, error: error))
        response.setCookie(Web.cookie(Web.signInCookie, csrf, request, maxAge: 3600))
        if request.uri.queryParameters.get("lang") != nil { response.setCookie(Web.languageCookie(language, request)) }
        return response
    }

    @Sendable func signIn(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let language = Web.cookieLanguage(request)
        let form: [String: String]
        do { form = try await Web.form(request) } catch let failure as PageFailure { return pages.failure(request, language, failure) }
        guard let token = form["csrf"], let expected = request.cookies[Web.signInCookie]?.value, Web.same(token, expected) else {
            return signInForm(request, language: language, error: Wording(language)["csrf"], status: .forbidden)
        }
        guard let text = form["token"], let bearer = BearerToken(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            case .valid(let principal) = try await DatabaseScope.system({ try await stores.tokens.authenticate(bearer) }),
            WebRoutes.signIn.contains(principal.role)
        else {
            context.logger.info("web sign-in refused")
            return signInForm(request, language: language, error: Wording(language)["bad-token"], status: .unauthorized)
        }
        let (secret, _) = try await DatabaseScope.system { try await stores.sessions.open(for: principal) }
        context.logger.info("web session opened", metadata: ["actor": "\(principal.actor)"])
        // Back to the page that asked for a session, if this role may open it; else the role's home.
        let home = Self.home(for: principal.role)
        let next = Web.safeNext(form["next"], home: home)
        var response = Web.redirect(WebRoutes.opens(next, for: principal.role) ? next : home)
        response.setCookie(Web.cookie(Web.sessionCookie, secret, request, maxAge: Int(SessionStore.lifetime)))
        response.setCookie(Web.cookie(Web.signInCookie, "", request, maxAge: 0))
        return response
    }

    @Sendable func signOut(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        if let secret = request.cookies[Web.sessionCookie]?.value { try await stores.sessions.end(secret) }
        var response = Web.redirect("/dashboard/sign-in")
        response.setCookie(Web.cookie(Web.sessionCookie, "", request, maxAge: 0))
        return response
    }
}
