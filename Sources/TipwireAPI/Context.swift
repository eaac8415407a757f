import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TipwireCore
import TipwireStore

/// Per-request state: who is calling.
public struct TipwireRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var principal: Principal?
    /// A page's signed-in reader (`WebSessionMiddleware`).
    var page: WebVisit?
    /// The connection, for `UnreadBodyMiddleware` to close when a refused body is too long to read away.
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
        page = nil
        channel = source.channel
    }

    /// Uploads are capped by the documents controller itself, with a clear problem.
    public var maxUploadSize: Int { .max }

    /// The caller, who must hold one of `roles`; a 403 problem otherwise.
    func require(_ roles: Role...) throws -> Principal {
        guard let principal else { throw Problem.unauthenticated }
        guard roles.contains(principal.role) else { throw Problem.forbidden(principal.role, allowed: roles) }
        return principal
    }
}

/// Authenticates `Authorization: Bearer tw_…` against the token table.
struct AuthMiddleware: RouterMiddleware {
    let tokens: TokenStore

    func handle(_ request: Request, context: TipwireRequestContext, next: (Request, TipwireRequestContext) async throws -> Response) async throws
        -> Response
    {
        guard let token = Self.bearerToken(request) else { throw Problem.unauthenticated }
        let principal: Principal
        switch try await tokens.authenticate(token) {
        case .valid(let valid): principal = valid
        case .expired(let at): throw Problem.tokenExpired(at: at)
        case .unknown: throw Problem.unauthenticated
        }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "actor"] = "\(principal.actor)"
        // Reads run as the caller, so the database's row-level security is a second wall behind each
        // handler's own scope check. Writes run as the pipeline: their handlers check scope, and a write
        // may need rows outside the caller's read scope (another agency's task when one transfers).
        if request.method == .get || request.method == .head {
            return try await DatabaseScope.principal(principal) { try await next(request, context) }
        }
        return try await DatabaseScope.system { try await next(request, context) }
    }

    /// The token of `Authorization: Bearer tw_…`, if the header holds one.
    static func bearerToken(_ request: Request) -> BearerToken? {
        guard let header = request.headers[.authorization], header.count > 7, header.prefix(7).lowercased() == "bearer " else { return nil }
        return BearerToken(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
    }
}
