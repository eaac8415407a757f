import Foundation
import Hummingbird
import TipwireCore
import TipwireStore

/// `GET /v1/audit`: the audit log, for auditors only. Rows name who did what to which object; they hold no
/// document, summary or source content.
struct AuditController {
    let audit: AuditStore

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.get("audit", use: list)
    }

    @Sendable func list(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        _ = try context.require(.auditor)
        var query = QueryReader(request.uri.queryParameters)
        var filter = AuditFilter()
        filter.actor = query.text("actor", maximum: 300)
        filter.action = query.oneOf("action", AuditAction.allCases.map(\.rawValue)).flatMap(AuditAction.init)
        filter.object = query.text("object", maximum: 300)
        filter.since = query.timestamp("since")
        filter.until = query.timestamp("until")
        filter.after = query.cursor("cursor", SequenceCursor.init(token:))
        filter.limit = query.limit("limit", default: 50, maximum: 200)
        try query.check()
        return try HTTP.json(.ok, try await audit.list(filter))
    }
}
