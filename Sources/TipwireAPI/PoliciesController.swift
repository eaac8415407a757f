import Foundation
import Hummingbird
import Logging
import TipwireCore
import TipwireStore

/// `GET /v1/policies`: the deadline policies in force, for everyone who has duties or watches them;
/// `PUT /v1/policies/{stage}`: an admin sets one (the default, or a category's own).
struct PoliciesController {
    let policies: PolicyStore

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.get("policies", use: list)
        group.put("policies/{stage}", use: save)
    }

    @Sendable func save(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.admin)
        let segment = context.parameters.get("stage") ?? ""
        guard let stage = DeadlineStage(rawValue: segment) else {
            throw Problem.notFound("policy stage \(segment) (one of: \(DeadlineStage.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        try HTTP.requireJSON(request)
        let body = try HTTP.parseJSON(try await HTTP.body(request, limit: 16 * 1024))
        var category: String?
        if case .object(let fields) = body, case .string(let text)? = fields["category"] { category = text }
        let current = try await policies.find(category: category, stage: stage)
        let policy: DeadlinePolicy
        do {
            policy = try DeadlinePolicy.parse(stage: stage, body, current: current)
        } catch {
            throw Problem.validation(error)
        }
        guard let saved = try await policies.save(policy, by: principal.actor) else {
            throw Problem.validation(ValidationFailure("category", "is not a known category"))
        }
        context.logger.notice(
            "deadline policy set", metadata: ["stage": "\(stage.rawValue)", "category": "\(saved.category ?? "default")", "by": "\(principal.actor)"])
        return try HTTP.json(current == nil ? .created : .ok, saved)
    }

    @Sendable func list(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        _ = try context.require(.liaison, .agency, .coordinator, .auditor, .admin)
        return try HTTP.json(.ok, Page(items: try await policies.all(), nextCursor: nil))
    }
}
