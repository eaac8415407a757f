import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwireStore

/// `POST /v1/tasks/{id}/reassign` (coordinator). The agency's lifecycle actions join here in issue 5.
struct TasksController {
    let findings: FindingStore

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.post("tasks/{id}/reassign", use: reassign)
    }

    @Sendable func reassign(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.coordinator)
        let id = try HTTP.uuid(context, "id", what: "task")
        try HTTP.requireJSON(request)
        let body = try HTTP.parseJSON(try await HTTP.body(request, limit: 64 * 1024))
        var reader = FieldReader(object: body, allowed: ["agency", "reason"])
        let agencyText = reader.string("agency")
        let reason = reader.text("reason", length: 1...2000, multiline: true)
        var agency: PartyCode?
        if let agencyText {
            agency = PartyCode(rawValue: agencyText)
            if agency == nil { reader.fail("agency", "is not a code: \(PartyCode.validate(agencyText) ?? "invalid")") }
        }
        guard reader.errors.isEmpty, let agency, let reason else { throw Problem.validation(ValidationFailure(reader.errors)) }
        switch try await findings.reassign(taskID: id, to: agency, reason: reason, actor: principal.actor) {
        case .reassigned(let previous, let task):
            context.logger.info("task reassigned", metadata: ["task": "\(id.lowercased)", "to": "\(agency)", "new_task": "\(task.id)"])
            return try HTTP.json(.ok, Reassignment(previous: previous, task: task), headers: [.location: "/v1/tasks/\(task.id)"])
        case .notFound:
            throw Problem.notFound("task \(id.lowercased)")
        case .conflict(let detail):
            throw Problem.conflict(detail)
        case .rejected(let failure):
            throw Problem.validation(failure)
        }
    }

    struct Reassignment: Encodable {
        var previous: TaskView
        var task: TaskView
    }
}
