import Foundation
import Hummingbird
import Logging
import TipwireCore
import TipwireStore

/// A newsroom's source keys (`GET`/`PUT /v1/newsrooms/{code}/source-keys`) and its sealed source envelopes
/// (`GET /v1/sources/{handle}`). Only the newsroom's own liaisons register keys and read envelopes (agencies
/// may also read the public keys, to seal to them); to everyone else they do not exist (404), so handles
/// cannot be probed.
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

    /// The newsroom's own liaisons list its keys; an agency reads them too, to seal a protection case's
    /// details to the newsroom (public keys open nothing).
    @Sendable func keys(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        guard let principal = context.principal else { throw Problem.unauthenticated }
        let segment = context.parameters.get("code") ?? ""
        guard let newsroom = PartyCode(rawValue: segment),
            principal.role == .agency || (principal.role == .liaison && principal.newsroom == newsroom)
        else { throw Problem.notFound("newsroom \(segment.prefix(60))") }
        let list = try await sources.keys(of: newsroom)
        guard principal.role == .liaison || !list.keys.isEmpty else { throw Problem.notFound("newsroom \(newsroom)'s source keys") }
        return try HTTP.json(.ok, list)
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
