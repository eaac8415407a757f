import Foundation
import HTTPTypes
import Hummingbird
import TipwireCore
import TipwirePages
import TipwireStore

/// One page: its method and path, who may open it (nil: anyone, e.g. the sign-in form) and, when the
/// navigation lists it, its wording key and the roles it is listed for.
struct WebRoute: Sendable {
    struct Menu: Sendable {
        var key: String
        var roles: Set<Role>
    }

    var method: HTTPRequest.Method
    var path: String
    var roles: Set<Role>?
    var menu: Menu?

    var key: String { "\(method.rawValue) \(path)" }
}

/// Every page route, in the navigation's order. The router serves these (`WebRoutes.add`), the navigation
/// lists the ones with a menu entry, `RouteTable` answers 405 from them, and a test opens each one as
/// every role it names.
enum WebRoutes {
    static let signIn: Set<Role> = [.coordinator, .agency, .liaison]
    static let dashboard: Set<Role> = [.coordinator, .agency]
    static let inbox: Set<Role> = [.agency]
    static let desk: Set<Role> = [.liaison]

    static let all: [WebRoute] = [
        WebRoute(method: .get, path: "/dashboard/sign-in"),
        WebRoute(method: .post, path: "/dashboard/sign-in"),
        WebRoute(method: .post, path: "/dashboard/sign-out", roles: signIn),
        WebRoute(method: .get, path: "/assets/seal.js"),
        WebRoute(method: .get, path: "/desk", roles: desk, menu: .init(key: "desk", roles: desk)),
        WebRoute(method: .get, path: "/desk/findings/new", roles: desk, menu: .init(key: "submit-finding", roles: desk)),
        WebRoute(method: .post, path: "/desk/findings", roles: desk),
        WebRoute(method: .get, path: "/desk/findings/{id}", roles: desk),
        WebRoute(method: .post, path: "/desk/findings/{id}/questions", roles: desk),
        WebRoute(method: .get, path: "/desk/requests", roles: desk, menu: .init(key: "requests", roles: desk)),
        WebRoute(method: .get, path: "/desk/requests/{id}", roles: desk),
        WebRoute(method: .post, path: "/desk/requests/{id}/{reply}", roles: desk),
        WebRoute(method: .get, path: "/desk/documents/{id}", roles: desk),
        WebRoute(method: .get, path: "/desk/disclosures", roles: desk, menu: .init(key: "disclosures", roles: desk)),
        WebRoute(method: .get, path: "/desk/disclosures/{id}", roles: desk),
        WebRoute(method: .get, path: "/desk/disclosures/{id}/letter", roles: desk),
        WebRoute(method: .post, path: "/desk/disclosures/{id}/decision", roles: desk),
        WebRoute(method: .get, path: "/desk/protection", roles: desk, menu: .init(key: "protection-cases", roles: desk)),
        WebRoute(method: .get, path: "/desk/protection/new", roles: desk),
        WebRoute(method: .post, path: "/desk/protection", roles: desk),
        WebRoute(method: .get, path: "/desk/protection/{id}", roles: desk),
        WebRoute(method: .get, path: "/inbox", roles: inbox, menu: .init(key: "inbox", roles: inbox)),
        WebRoute(method: .get, path: "/inbox/tasks/{id}", roles: inbox),
        WebRoute(method: .post, path: "/inbox/tasks/{id}/{action}", roles: inbox),
        WebRoute(method: .get, path: "/inbox/documents/{id}", roles: inbox),
        WebRoute(method: .get, path: "/inbox/requests", roles: inbox, menu: .init(key: "requests", roles: inbox)),
        WebRoute(method: .get, path: "/inbox/requests/{id}", roles: inbox),
        WebRoute(method: .post, path: "/inbox/requests/{id}/{reply}", roles: inbox),
        WebRoute(method: .get, path: "/inbox/disclosures", roles: inbox, menu: .init(key: "disclosures", roles: inbox)),
        WebRoute(method: .get, path: "/inbox/disclosures/new", roles: inbox),
        WebRoute(method: .post, path: "/inbox/disclosures", roles: inbox),
        WebRoute(method: .get, path: "/inbox/disclosures/{id}", roles: inbox),
        WebRoute(method: .get, path: "/inbox/disclosures/{id}/letter", roles: inbox),
        WebRoute(method: .get, path: "/inbox/protection", roles: inbox, menu: .init(key: "protection-cases", roles: inbox)),
        WebRoute(method: .get, path: "/inbox/protection/{id}", roles: inbox),
        WebRoute(method: .post, path: "/inbox/protection/{id}/{step}", roles: inbox),
        WebRoute(method: .get, path: "/dashboard", roles: dashboard, menu: .init(key: "overview", roles: dashboard)),
        WebRoute(method: .get, path: "/dashboard/agencies", roles: dashboard, menu: .init(key: "agencies", roles: [.coordinator])),
        WebRoute(method: .get, path: "/dashboard/agencies/{code}", roles: dashboard, menu: .init(key: "agency", roles: [.agency])),
        WebRoute(method: .get, path: "/dashboard/overdue", roles: dashboard, menu: .init(key: "overdue", roles: [.coordinator])),
        WebRoute(method: .get, path: "/dashboard/escalations", roles: dashboard, menu: .init(key: "escalations", roles: dashboard)),
        WebRoute(method: .post, path: "/dashboard/escalations/{id}/acknowledge", roles: dashboard),
        WebRoute(method: .get, path: "/dashboard/scorecard", roles: dashboard, menu: .init(key: "scorecard", roles: [.coordinator])),
        WebRoute(method: .get, path: "/dashboard/scorecard.csv", roles: dashboard),
        WebRoute(method: .get, path: "/dashboard/tasks", roles: dashboard),
    ]

    /// The first segments of the pages' paths: where signing in may send a reader back to.
    static let prefixes: Set<String> = Set(all.filter { $0.roles != nil }.compactMap { $0.path.split(separator: "/").first.map { "/" + $0 } })

    /// Whether `role` may open the page at `target` (a path and query): a GET route of its role matches
    /// the path, `{…}` standing for any one segment.
    static func opens(_ target: String, for role: Role) -> Bool {
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? target
        let segments = path.split(separator: "/")
        return all.contains { route in
            guard route.method == .get, route.roles?.contains(role) == true else { return false }
            let pattern = route.path.split(separator: "/")
            return pattern.count == segments.count && zip(pattern, segments).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }
    }

    /// The paths and methods, for `RouteTable`.
    static var methods: [(String, [HTTPRequest.Method])] {
        var byPath: [String: [HTTPRequest.Method]] = [:]
        var order: [String] = []
        for route in all {
            if byPath[route.path] == nil { order.append(route.path) }
            byPath[route.path, default: []].append(route.method)
        }
        return order.map { ($0, byPath[$0] ?? []) }
    }

    /// The navigation of `principal`: the pages listed for its role, an agency's own page at its code.
    static func menu(for principal: Principal) -> [MenuItem] {
        all.compactMap { route in
            guard let menu = route.menu, menu.roles.contains(principal.role) else { return nil }
            let href = route.path.replacingOccurrences(of: "{code}", with: principal.agency?.rawValue ?? "")
            return MenuItem(href: href, key: menu.key)
        }
    }

    /// Serves every route with its handler among `handlers` (keyed by `WebRoute.key`), the signed-in ones
    /// behind `WebSessionMiddleware`. A route without a handler, or a handler without a route, is a bug
    /// every test that builds the router finds.
    static func add(to router: Router<TipwireRequestContext>, handlers: [String: Handler], sessions: SessionStore, pages: Pages) {
        let unrouted = Set(handlers.keys).subtracting(all.map(\.key))
        precondition(unrouted.isEmpty, "page handlers without a route in WebRoutes.all: \(unrouted.sorted())")
        var groups: [Set<Role>: RouterGroup<TipwireRequestContext>] = [:]
        for route in all {
            guard let handler = handlers[route.key] else { preconditionFailure("no handler for the page route \(route.key)") }
            let path = RouterPath(String(route.path.dropFirst()))
            if let roles = route.roles {
                let group = groups[roles] ?? router.group().add(middleware: WebSessionMiddleware(sessions: sessions, pages: pages, roles: roles))
                groups[roles] = group
                group.on(path, method: route.method, use: handler)
            } else {
                router.on(path, method: route.method, use: handler)
            }
        }
    }

    typealias Handler = @Sendable (Request, TipwireRequestContext) async throws -> Response
}
