import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwireStore

/// The named officers notifications reach (docs/notifications.md), managed by an admin:
/// `GET|POST /v1/people`, `GET|PUT|DELETE /v1/people/{id}`. Removing keeps the person on record.
struct PeopleController {
    let people: PeopleStore

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.get("people", use: list)
        group.post("people", use: add)
        group.get("people/{id}", use: show)
        group.put("people/{id}", use: replace)
        group.delete("people/{id}", use: remove)
    }

    @Sendable func list(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        var query = QueryReader(request.uri.queryParameters)
        let kind = query.oneOf("party_kind", ["agency", "newsroom"]).flatMap(PersonSubmission.PartyKind.init)
        let party = query.code("party")
        let removed = query.oneOf("removed", ["true", "false"]) == "true"
        try query.check()
        return try HTTP.json(.ok, Page(items: try await people.list(partyKind: kind, party: party, includingRemoved: removed), nextCursor: nil))
    }

    @Sendable func show(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let id = try HTTP.uuid(context, "id", what: "person")
        guard let person = try await people.find(id) else { throw Problem.notFound("person \(id.lowercased)") }
        return try HTTP.json(.ok, person)
    }

    @Sendable func add(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let person = try await Self.submission(request)
        let view = try Self.done(try await people.add(person, by: principal.actor), id: nil)
        context.logger.notice("person added", metadata: ["person": "\(view.id)", "party": "\(view.partyKind):\(view.party)", "role": "\(view.role)"])
        return try HTTP.json(.created, view, headers: [.location: "/v1/people/\(view.id)"])
    }

    @Sendable func replace(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let id = try HTTP.uuid(context, "id", what: "person")
        let person = try await Self.submission(request)
        let view = try Self.done(try await people.replace(id, with: person, by: principal.actor), id: id)
        context.logger.notice("person changed", metadata: ["person": "\(view.id)", "role": "\(view.role)"])
        return try HTTP.json(.ok, view)
    }

    @Sendable func remove(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let id = try HTTP.uuid(context, "id", what: "person")
        let view = try Self.done(try await people.remove(id, by: principal.actor), id: id)
        context.logger.notice("person removed", metadata: ["person": "\(view.id)"])
        return try HTTP.json(.ok, view)
    }

    static func submission(_ request: Request) async throws -> PersonSubmission {
        try HTTP.requireJSON(request)
        do {
            return try PersonSubmission.parse(try HTTP.parseJSON(try await HTTP.body(request, limit: 16 * 1024)))
        } catch let failure as ValidationFailure {
            throw Problem.validation(failure)
        }
    }

    static func done(_ outcome: PersonOutcome, id: UUID?) throws -> PersonView {
        switch outcome {
        case .done(let view): return view
        case .notFound: throw Problem.notFound("person \(id?.lowercased ?? "")")
        case .rejected(let failure): throw Problem.validation(failure)
        }
    }
}
