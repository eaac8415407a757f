import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwireStore

/// Protection cases: a liaison or an agency opens one (`POST /v1/protection-cases`) when a source or a
/// journalist faces retaliation; the protecting agency, chosen by rule, acknowledges and resolves it on its
/// own clocks; the coordinator reads every case and the figure the plan is judged by
/// (`GET /v1/protection-figure`).
struct ProtectionController {
    let protection: ProtectionStore

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.post("protection-cases", use: open)
        group.get("protection-cases", use: list)
        group.get("protection-cases/{id}", use: show)
        group.post("protection-cases/{id}/acknowledge", use: acknowledge)
        group.post("protection-cases/{id}/resolve", use: resolve)
        group.get("protection-figure", use: figure)
    }

    /// Whose cases the caller acts on: its newsroom's, its agency's, or (the coordinator) every one.
    static func actor(_ principal: Principal) throws -> FindingScope {
        guard let scope = FindingScope(principal) else { throw Problem.unauthenticated }
        return scope
    }

    @Sendable func open(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.liaison, .agency)
        try HTTP.requireJSON(request)
        let body = try await HTTP.body(request, limit: 256 * 1024)
        let submission: ProtectionSubmission
        do {
            submission = try ProtectionSubmission.parse(try HTTP.parseJSON(body))
        } catch let failure as ValidationFailure {
            throw Problem.validation(failure)
        }
        let result = try await protection.open(
            submission, by: try Self.actor(principal), actor: principal.actor,
            idempotency: try IdempotencyKey.idempotency(request, principal: principal, body: body, status: 201, answer: Self.stored))
        if case .answered(_, .done(let view)) = result {
            context.logger.notice(
                "protection case opened", metadata: ["protection_case": "\(view.id)", "protecting_agency": "\(view.protectingAgency)"])
        }
        return try HTTP.answer(
            result,
            headers: { outcome in
                if case .done(let view) = outcome { [.location: "/v1/protection-cases/\(view.id)"] } else { [:] }
            }, refused: { Self.problem($0, id: nil) })
    }

    @Sendable func acknowledge(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.agency)
        guard let agency = principal.agency else { throw Problem.unauthenticated }
        let id = try HTTP.uuid(context, "id", what: "protection case")
        let body = try await HTTP.body(request, limit: 64 * 1024)
        let result = try await protection.acknowledge(
            id, by: agency, actor: principal.actor,
            idempotency: try IdempotencyKey.idempotency(request, principal: principal, body: body, status: 200, answer: Self.stored))
        return try HTTP.answer(result) { Self.problem($0, id: id) }
    }

    @Sendable func resolve(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.agency)
        guard let agency = principal.agency else { throw Problem.unauthenticated }
        let id = try HTTP.uuid(context, "id", what: "protection case")
        try HTTP.requireJSON(request)
        let body = try await HTTP.body(request, limit: 64 * 1024)
        let (outcome, note): (ProtectionOutcome, String)
        do {
            (outcome, note) = try ProtectionSubmission.parseResolution(try HTTP.parseJSON(body))
        } catch let failure as ValidationFailure {
            throw Problem.validation(failure)
        }
        let result = try await protection.resolve(
            id, by: agency, outcome: outcome, note: note, actor: principal.actor,
            idempotency: try IdempotencyKey.idempotency(request, principal: principal, body: body, status: 200, answer: Self.stored))
        return try HTTP.answer(result) { Self.problem($0, id: id) }
    }

    @Sendable func list(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.liaison, .agency, .coordinator)
        var query = QueryReader(request.uri.queryParameters)
        let after = query.cursor("cursor")
        let limit = query.limit("limit", default: 20, maximum: 100)
        try query.check()
        return try HTTP.json(.ok, try await protection.list(for: try Self.actor(principal), after: after, limit: limit))
    }

    @Sendable func show(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.liaison, .agency, .coordinator)
        let id = try HTTP.uuid(context, "id", what: "protection case")
        guard let view = try await protection.view(id, for: try Self.actor(principal)) else {
            throw Problem.notFound("protection case \(id.lowercased)")
        }
        return try HTTP.json(.ok, view)
    }

    @Sendable func figure(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        _ = try context.require(.coordinator)
        return try HTTP.json(.ok, try await protection.figure())
    }

    @Sendable static func stored(_ outcome: ProtectionOutcomeResult) -> (any Encodable)? {
        if case .done(let view) = outcome { view } else { nil }
    }

    static func problem(_ outcome: ProtectionOutcomeResult, id: UUID?) -> Problem {
        switch outcome {
        case .done: Problem.conflict("the step was done")  // a done outcome is always answered
        case .notFound: Problem.notFound("protection case \(id?.lowercased ?? "")")
        case .rejected(let failure): Problem.validation(failure)
        case .conflict(let reason): Problem.conflict(reason)
        }
    }
}
