import Foundation
import HTTPTypes
import Hummingbird
import TipwireCore
import TipwirePages
import TipwireStore

/// A page that is not what was asked for: a friendly page with its status.
struct PageFailure: Error {
    var status: HTTPResponse.Status
    var title: String
    var detail: String
    var errors: [String] = []

    /// The page for what does not exist, or is not the reader's to see: the two look the same.
    static func notFound(_ wording: Wording) -> PageFailure {
        PageFailure(status: .notFound, title: wording["not-found"], detail: wording["not-found-text"])
    }
}

/// A signed-in reader: its session, how its pages address it, and a POST's form.
struct WebVisit: Sendable {
    var session: DashboardSession
    var reader: Reader
    /// Who the reader is to the task lifecycle: its agency, its newsroom, or the coordinator.
    var actor: TaskActor
    /// A POST's form, read once by `WebSessionMiddleware` to check its token (a body can be read only once).
    var form: [String: String] = [:]
    var language: Language { reader.language }
    var agency: PartyCode? { reader.agency }
    var scope: StatsScope { agency.map(StatsScope.agency) ?? .everything }
}

extension Web {
    /// "The action was recorded." after a form's redirect (`?done=1`), else nothing.
    static func notice(_ request: Request, _ visit: WebVisit) -> String? {
        request.uri.queryParameters.get("done") == "1" ? visit.reader.wording["action-done"] : nil
    }

    /// The page's `{id}`, a UUID; anything else is a page that does not exist.
    static func id(_ context: TipwireRequestContext, _ visit: WebVisit) throws -> UUID {
        guard let id = UUID(uuidString: context.parameters.get("id") ?? "") else {
            throw PageFailure.notFound(visit.reader.wording)
        }
        return id
    }
}

extension Web {
    /// The page's `?cursor=`, when there is one; a cursor that is not one of ours is a bad request.
    static func cursor(_ request: Request, _ visit: WebVisit) throws -> PageCursor? {
        try request.uri.queryParameters.get("cursor").map { text -> PageCursor in
            guard let cursor = PageCursor(token: String(text)) else {
                throw PageFailure(status: .badRequest, title: visit.reader.wording["bad-request"], detail: "cursor")
            }
            return cursor
        }
    }
}

extension TipwireRequestContext {
    /// The signed-in reader of a page behind `WebSessionMiddleware`.
    func visit() throws -> WebVisit {
        guard let page else { throw PageFailure(status: .forbidden, title: "403", detail: "no session") }
        return page
    }
}

/// Signs the pages of a route group in: the session cookie must name a session of one of `roles`.
/// Without one, a GET goes to the sign-in page (and comes back after), a POST answers 403. A POST must
/// carry the session's form token. The page then runs as that reader in the database (a POST as the
/// system: its stores check who may do what), and a `PageFailure` it throws becomes a page in the
/// reader's language.
struct WebSessionMiddleware: RouterMiddleware {
    typealias Context = TipwireRequestContext

    let sessions: SessionStore
    let pages: Pages
    let roles: Set<Role>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let post = request.method == .post
        let language = try? Web.language(request)
        var session: DashboardSession?
        if let secret = request.cookies[Web.sessionCookie]?.value {
            session = try await DatabaseScope.system { try await sessions.session(secret) }
        }
        guard let session, roles.contains(session.principal.role), let actor = TaskActor(session.principal) else {
            if post {
                return render(
                    request, language ?? .vietnamese, PageFailure(status: .forbidden, title: "403", detail: Wording(language ?? .vietnamese)["csrf"]))
            }
            let next = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            return Web.redirect("/dashboard/sign-in?next=\(Web.percentEncoded(next))")
        }
        guard let language else {
            return render(request, Web.cookieLanguage(request), PageFailure(status: .badRequest, title: "400", detail: "lang: vi | en"))
        }
        let reader = Reader(
            language: language, label: Self.label(session.principal, language), csrf: session.csrf,
            agency: session.principal.role == .agency ? session.principal.agency : nil,
            path: Web.pathWithoutLanguage(request), menu: WebRoutes.menu(for: session.principal))
        var context = context
        context.page = WebVisit(session: session, reader: reader, actor: actor)
        var response: Response
        do {
            if post {
                // A form with files (multipart) is left for its page to read as it streams: its token comes
                // in the form's action, `?csrf=…`. Any other form is read here, token and all.
                let token: String?
                if MultipartForm.boundary(request.headers[.contentType] ?? "") != nil {
                    token = request.uri.queryParameters.get("csrf").map { String($0) }
                } else {
                    let form = try await Web.form(request)
                    token = form["csrf"]
                    context.page?.form = form
                }
                guard let token, Web.same(token, session.csrf) else {
                    throw PageFailure(status: .forbidden, title: "403", detail: reader.wording["csrf"])
                }
                response = try await DatabaseScope.system { try await next(request, context) }
            } else {
                response = try await DatabaseScope.principal(session.principal) { try await next(request, context) }
            }
        } catch let failure as PageFailure {
            response = render(request, language, failure, reader: reader)
        }
        if request.uri.queryParameters.get("lang") != nil { response.setCookie(Web.languageCookie(language, request)) }
        return response
    }

    func render(_ request: Request, _ language: Language, _ failure: PageFailure, reader: Reader? = nil) -> Response {
        pages.failure(request, language, failure, reader: reader)
    }

    static func label(_ principal: Principal, _ language: Language) -> String {
        let wording = Wording(language)
        let role = wording["role-\(principal.role.rawValue)"]
        let party = principal.agency?.rawValue ?? principal.newsroom?.rawValue ?? ""
        return principal.holder.isEmpty ? "\(role) · \(party)" : "\(principal.holder) (\(role) · \(party))"
    }
}

extension Pages {
    /// A failure as a page in `language`.
    func failure(_ request: Request, _ language: Language, _ failure: PageFailure, reader: Reader? = nil) -> Response {
        let reader = reader ?? Reader(language: language, label: nil, csrf: "", agency: nil, path: Web.pathWithoutLanguage(request))
        return Web.html(failure.status, problem(reader: reader, title: failure.title, detail: failure.detail, errors: failure.errors))
    }
}
