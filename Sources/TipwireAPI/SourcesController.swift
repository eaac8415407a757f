import Foundation
import Hummingbird
import Logging
import TipwireCore
import TipwireStore

/// A newsroom's source keys (`GET`/`PUT /v1/newsrooms/{code}/source-keys`) and its sealed source envelopes
/// (`GET /v1/sources/{handle}`). Only the newsroom's own liaisons reach them; to everyone else they do not
/// exist (404), so handles and keys cannot be probed.
struct SourcesController {
    let sources: SourceStore

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.get("newsrooms/{code}/source-keys", use: keys)
        group.put("newsrooms/{code}/source-keys", use: register)
        group.get("sources/{handle}", use: envelope)
    }

    /// The newsroom in the path, when the caller is one of its liaisons.
    private func ownNewsroom(_ context: TipwireRequestContext) throws -> (PartyCode, Principal) {
        guard let principal = context.principal else { throw Problem.unauthenticated }
        let segment = context.parameters.get("code") ?? ""
        guard principal.role == .liaison, let newsroom = principal.newsroom, newsroom.rawValue == segment else {
            throw Problem.notFound("newsroom \(segment)")
        }
        return (newsroom, principal)
    }

    @Sendable func keys(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let (newsroom, _) = try ownNewsroom(context)
        return try HTTP.json(.ok, try await sources.keys(of: newsroom))
    }

    @Sendable func register(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let (newsroom, principal) = try ownNewsroom(context)
        try HTTP.requireJSON(request)
        let body = try HTTP.parseJSON(try await HTTP.body(request, limit: 4 * 1024))
        var reader = FieldReader(object: body, allowed: ["public_key"])
        let key = reader.string("public_key").flatMap { text -> SourcePublicKey? in
            guard let key = SourcePublicKey(newsroom: newsroom, base64URL: text) else {
                reader.fail("public_key", "must be a 32-byte X25519 public key in base64url, as `tipwire source keygen` prints it")
                return nil
            }
            return key
        }
        guard reader.errors.isEmpty, let key else { throw Problem.validation(ValidationFailure(reader.errors)) }
        switch try await sources.register(key, by: principal.actor) {
        case .registered(let list):
            context.logger.notice("source key registered", metadata: ["newsroom": "\(newsroom)", "key_id": "\(key.id)", "by": "\(principal.actor)"])
            return try HTTP.json(.created, list)
        case .unchanged(let list):
            return try HTTP.json(.ok, list)
        case .refused(let reason):
            throw Problem.conflict(reason)
        }
    }

    @Sendable func envelope(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        guard let principal = context.principal else { throw Problem.unauthenticated }
        let segment = context.parameters.get("handle") ?? ""
        guard principal.role == .liaison, let newsroom = principal.newsroom, let handle = SourceHandle(rawValue: segment),
            let stored = try await sources.envelope(handle, of: newsroom, readBy: principal.actor)
        else {
            throw Problem.notFound("source \(segment.prefix(60))")
        }
        return try HTTP.json(.ok, stored, headers: [.cacheControl: "no-store"])
    }
}
