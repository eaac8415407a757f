import Foundation
import Hummingbird
import TipwireCore
import TipwireStore

/// `GET /v1/policies`: the deadline policies in force, for everyone who has duties or watches them.
struct PoliciesController {
    let policies: PolicyStore

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.get("policies", use: list)
    }

    @Sendable func list(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        _ = try context.require(.liaison, .agency, .coordinator, .auditor, .admin)
        return try HTTP.json(.ok, Page(items: try await policies.all(), nextCursor: nil))
    }
}
