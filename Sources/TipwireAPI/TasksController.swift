import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwireStore

/// `GET /v1/tasks`, `GET /v1/tasks/{id}` and the lifecycle actions `POST /v1/tasks/{id}/{action}`.
/// Every action goes through `TaskLifecycle`, exactly as a response arriving over Kafka does.
struct TasksController {
    let tasks: TaskStore

    /// The actions the HTTP API takes, by path segment. `reassign` is the coordinator's transfer.
    static let actionPaths: [String: TaskActionName] = [
        "acknowledge": .acknowledge, "start": .start, "request-info": .requestInfo, "extend": .extend, "transfer": .transfer, "decline": .decline,
        "resolve": .resolve, "reopen": .reopen, "close": .close, "reassign": .transfer,
    ]

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.get("tasks", use: list)
        group.get("tasks/{id}", use: show)
        group.post("tasks/{id}/{action}", use: act)
    }

    @Sendable func list(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let actor = try Self.actor(try context.require(.agency, .coordinator))
        var query = QueryReader(request.uri.queryParameters)
        let state = query.oneOf("state", TaskState.allCases.map(\.rawValue)).flatMap(TaskState.init(rawValue:))
        let filter = TaskFilter(
            agency: query.code("agency"), state: state, category: query.code("category")?.rawValue, after: query.cursor("cursor"),
            limit: query.limit("limit", default: 20, maximum: 100))
        try query.check()
        return try HTTP.json(.ok, try await tasks.list(filter, for: actor))
    }

    @Sendable func show(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let actor = try Self.actor(try context.require(.agency, .coordinator, .liaison))
        let id = try HTTP.uuid(context, "id", what: "task")
        guard let detail = try await tasks.detail(id, for: actor) else { throw Problem.notFound("task \(id.lowercased)") }
        return try HTTP.json(.ok, detail)
    }

    @Sendable func act(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let segment = context.parameters.get("action") ?? ""
        guard let name = Self.actionPaths[segment] else { throw Problem.notFound("POST \(request.uri.path)") }
        let principal: Principal
        switch (segment, name) {
        case ("reassign", _), (_, .reopen), (_, .close): principal = try context.require(.coordinator)
        case (_, .transfer): principal = try context.require(.agency, .coordinator)
        default: principal = try context.require(.agency)
        }
        let id = try HTTP.uuid(context, "id", what: "task")
        let body = try await HTTP.body(request, limit: 64 * 1024)
        let action = try Self.parse(name, body: body, request: request)
        let claim = try IdempotencyKey.claim(request, principal: principal, body: body)
        let result = try await tasks.perform(
            action, on: id, by: try Self.actor(principal), actorName: principal.actor,
            idempotency: Idempotency(claim: claim) { outcome in
                guard case .applied(let detail, let opened) = outcome else { return nil }
                return StoredAnswer(status: 200, body: try TipwireJSON.encode(ActionResult(task: detail, openedTask: opened)))
            })
        if case .answered(_, .applied(let detail, _)) = result {
            context.logger.info("task \(detail.task.state)", metadata: ["task": "\(id.lowercased)", "action": "\(name.rawValue)"])
        }
        return try HTTP.answer(
            result,
            headers: { outcome in
                guard case .applied(_, let opened?) = outcome else { return [:] }
                return [.location: "/v1/tasks/\(opened.id)"]
            },
            refused: { outcome in
                switch outcome {
                case .applied: Problem.conflict("the action was applied")  // an applied outcome is always answered
                case .notFound: Problem.notFound("task \(id.lowercased)")
                case .rejected(let rejection): Problem.rejected(rejection)
                case .conflict(let detail): Problem.conflict(detail)
                }
            })
    }

    struct ActionResult: Encodable {
        var task: TaskDetail
        /// The task a transfer or reassignment opened for the new agency; null otherwise.
        var openedTask: TaskView?

        enum CodingKeys: String, CodingKey {
            case task
            case openedTask = "opened_task"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(task, forKey: .task)
            try container.encode(openedTask, forKey: .openedTask)
        }
    }

    static func actor(_ principal: Principal) throws -> TaskActor {
        guard let actor = TaskActor(principal) else { throw Problem.forbidden(principal.role, allowed: [.agency, .coordinator, .liaison]) }
        return actor
    }

    /// Reads an action's JSON body (an empty body for actions that carry nothing).
    static func parse(_ name: TaskActionName, body: [UInt8], request: Request) throws -> TaskAction {
        let value: JSONValue
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            value = .object([:])
        } else {
            try HTTP.requireJSON(request)
            value = try HTTP.parseJSON(body)
        }
        do {
            return try TaskAction.parse(name, value)
        } catch {
            throw Problem.validation(error)
        }
    }
}

extension Problem {
    /// A lifecycle rejection: 409 naming the current state and the allowed actions, 403, or 422.
    static func rejected(_ rejection: TaskRejection) -> Problem {
        switch rejection {
        case .illegal(let state, _, let allowed):
            var problem = Problem(
                .conflict, "illegal-transition", title: "Not possible in the task's current state", detail: rejection.description,
                errors: [
                    FieldError(
                        "state",
                        "is \(state.rawValue); allowed actions: \(allowed.isEmpty ? "none" : allowed.map(\.rawValue).joined(separator: ", "))")
                ])
            problem.state = state.rawValue
            problem.allowedActions = allowed.map(\.rawValue)
            return problem
        case .forbidden:
            return Problem(.forbidden, "forbidden", title: "Not allowed for this actor", detail: rejection.description)
        case .invalid(let failure):
            return .validation(failure)
        }
    }
}
