import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwireStore

/// The coordinator's view of duties running late: `GET /v1/overdue`, `GET /v1/escalations`,
/// `POST /v1/escalations/{id}/acknowledge`. Reassigning and closing go through the task actions.
struct DutiesController {
    let duties: DutyStore

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.get("overdue", use: overdue)
        group.get("escalations", use: escalations)
        group.post("escalations/{id}/acknowledge", use: acknowledge)
    }

    @Sendable func overdue(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        _ = try context.require(.coordinator)
        var query = QueryReader(request.uri.queryParameters)
        let holder = query.code("holder")
        let limit = query.limit("limit", default: 20, maximum: 100)
        try query.check()
        return try HTTP.json(.ok, try await duties.overdue(at: Date(), holder: holder, perGroup: limit))
    }

    @Sendable func escalations(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let actor = try TasksController.actor(try context.require(.coordinator, .agency, .liaison))
        var query = QueryReader(request.uri.queryParameters)
        let state = query.oneOf("state", ["open", "acknowledged"])
        let kind = query.oneOf("kind", [RungKind.overdue.rawValue, RungKind.escalation.rawValue]).flatMap(RungKind.init)
        let filter = EscalationFilter(
            acknowledged: state.map { $0 == "acknowledged" }, kind: kind, after: query.cursor("cursor"),
            limit: query.limit("limit", default: 20, maximum: 100))
        try query.check()
        return try HTTP.json(.ok, try await duties.escalations(filter, for: actor))
    }

    @Sendable func acknowledge(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.coordinator)
        let id = try HTTP.uuid(context, "id", what: "escalation")
        try HTTP.requireJSON(request)
        let bytes = try await HTTP.body(request, limit: 16 * 1024)
        var reader = FieldReader(object: try HTTP.parseJSON(bytes), allowed: ["note"])
        let note = reader.text("note", length: 1...2000, multiline: true)
        guard reader.errors.isEmpty, let note else { throw Problem.validation(ValidationFailure(reader.errors)) }
        let result = try await duties.acknowledge(
            id, note: note, by: principal.actor,
            idempotency: try IdempotencyKey.idempotency(request, principal: principal, body: bytes, status: 200) {
                if case .acknowledged(let view) = $0 { view } else { nil }
            })
        if case .answered(_, .acknowledged(let view)) = result {
            context.logger.info("escalation acknowledged", metadata: ["escalation": "\(view.id)", "task": "\(view.taskID)"])
        }
        return try HTTP.answer(result) { outcome in
            switch outcome {
            case .acknowledged: Problem.conflict("the escalation was acknowledged")  // an acknowledged outcome is always answered
            case .notFound: Problem.notFound("escalation \(id.lowercased)")
            case .alreadyAcknowledged(let by, let at): Problem.conflict("the escalation was already acknowledged by \(by) at \(formatTimestamp(at))")
            }
        }
    }
}
