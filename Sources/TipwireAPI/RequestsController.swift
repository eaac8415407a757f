import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwireStore

/// Information requests both ways: `GET /v1/requests`, `GET /v1/requests/{id}`,
/// `POST /v1/requests/{id}/answer|decline`, and a newsroom's `POST /v1/findings/{id}/questions`.
struct RequestsController {
    let requests: RequestStore

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.get("requests", use: list)
        group.get("requests/{id}", use: show)
        group.post("requests/{id}/answer", use: answer)
        group.post("requests/{id}/decline", use: decline)
        group.post("findings/{id}/questions", use: ask)
    }

    @Sendable func list(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let actor = try TasksController.actor(try context.require(.liaison, .agency, .coordinator))
        var query = QueryReader(request.uri.queryParameters)
        let state = query.oneOf("state", ["open", "answered", "declined"])
        let direction = query.oneOf("direction", ["to-newsroom", "to-agency"]).flatMap(RequestDirection.init)
        let filter = RequestFilter(
            state: state, direction: direction, after: query.cursor("cursor"), limit: query.limit("limit", default: 20, maximum: 100))
        try query.check()
        return try HTTP.json(.ok, try await requests.list(filter, for: actor))
    }

    @Sendable func show(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let actor = try TasksController.actor(try context.require(.liaison, .agency, .coordinator))
        let id = try HTTP.uuid(context, "id", what: "request")
        guard let view = try await requests.view(id, for: actor) else { throw Problem.notFound("request \(id.lowercased)") }
        return try HTTP.json(.ok, view)
    }

    @Sendable func answer(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        try await respond(request, context: context, declined: false)
    }

    @Sendable func decline(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        try await respond(request, context: context, declined: true)
    }

    private func respond(_ request: Request, context: TipwireRequestContext, declined: Bool) async throws -> Response {
        let principal = try context.require(.liaison, .agency)
        let id = try HTTP.uuid(context, "id", what: "request")
        try HTTP.requireJSON(request)
        let bytes = try await HTTP.body(request, limit: 256 * 1024)
        let body = try HTTP.parseJSON(bytes)
        let reply: RequestReply
        do {
            reply = try RequestReply.parse(body, declined: declined)
        } catch {
            throw Problem.validation(error)
        }
        let result = try await requests.answer(
            id, answer: reply.text, documentIDs: reply.documentIDs, declined: declined, by: try TasksController.actor(principal),
            actorName: principal.actor,
            idempotency: try IdempotencyKey.idempotency(request, principal: principal, body: bytes, status: 200) {
                if case .answered(let view) = $0 { view } else { nil }
            })
        if case .answered(_, .answered(let view)) = result {
            context.logger.info("request \(view.state)", metadata: ["request": "\(view.id)", "task": "\(view.taskID)"])
        }
        return try HTTP.answer(result) { outcome in
            switch outcome {
            case .answered: Problem.conflict("the request was answered")  // an answered outcome is always answered
            case .notFound: Problem.notFound("request \(id.lowercased)")
            case .conflict(let detail): Problem.conflict(detail)
            case .rejected(let failure): Problem.validation(failure)
            }
        }
    }

    @Sendable func ask(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.liaison)
        guard let newsroom = principal.newsroom else { throw Problem.unauthenticated }
        let id = try HTTP.uuid(context, "id", what: "finding")
        try HTTP.requireJSON(request)
        let bytes = try await HTTP.body(request, limit: 64 * 1024)
        let submission: QuestionSubmission
        do {
            submission = try QuestionSubmission.parse(try HTTP.parseJSON(bytes))
        } catch let failure as ValidationFailure {
            throw Problem.validation(failure)
        }
        let result = try await requests.ask(
            finding: id, agency: submission.agency, questions: submission.question, by: newsroom, actorName: principal.actor,
            idempotency: try IdempotencyKey.idempotency(request, principal: principal, body: bytes, status: 201) {
                if case .asked(let views) = $0 { Page(items: views, nextCursor: nil) } else { nil }
            })
        if case .answered(_, .asked(let views)) = result {
            context.logger.info("question asked", metadata: ["finding": "\(id.lowercased)", "agencies": "\(views.map(\.agency))"])
        }
        return try HTTP.answer(result) { outcome in
            switch outcome {
            case .asked: Problem.conflict("the question was asked")  // an asked outcome is always answered
            case .notFound: Problem.notFound("finding \(id.lowercased)")
            case .rejected(let failure): Problem.validation(failure)
            }
        }
    }
}
