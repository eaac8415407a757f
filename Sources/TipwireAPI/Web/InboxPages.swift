import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwirePages
import TipwireStore

/// The agency's inbox (docs/desk-and-inbox.md): its open tasks, overdue first, and each task's page with
/// a form for every action the lifecycle allows. Every action goes through `TaskStore.perform`, as one
/// over HTTP or Kafka does: the same rules (need-to-know, conflict of interest), and the form's own
/// idempotency key, so a form sent twice acts once.
struct InboxPages: Sendable {
    let stores: TipwireStores
    let pages: Pages

    var handlers: [String: WebRoutes.Handler] {
        [
            "GET /inbox": list,
            "GET /inbox/tasks/{id}": task,
            "POST /inbox/tasks/{id}/{action}": act,
        ]
    }

    /// The actions an agency takes from its inbox.
    static let actions: [String: TaskActionName] = [
        "acknowledge": .acknowledge, "start": .start, "request-info": .requestInfo, "extend": .extend, "transfer": .transfer,
        "decline": .decline, "resolve": .resolve,
    ]

    @Sendable func list(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let agency = try Self.agency(visit)
        let cursor = try Web.cursor(request, visit)
        let page = try await stores.tasks.inbox(agency: agency, after: cursor)
        let notice = Web.notice(request, visit)
        return Web.html(.ok, pages.inbox(reader: visit.reader, page: page, notice: notice))
    }

    @Sendable func task(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let notice = Web.notice(request, visit)
        return try await taskPage(try Web.id(context, visit), visit: visit, attempt: nil, status: .ok, notice: notice)
    }

    /// The task page; `attempt` shows a form sent back with its errors.
    func taskPage(_ id: UUID, visit: WebVisit, attempt: FormAttempt?, status: HTTPResponse.Status, notice: String? = nil) async throws -> Response {
        let agency = try Self.agency(visit)
        let wording = visit.reader.wording
        guard let detail = try await stores.tasks.detail(id, for: .agency(agency)) else {
            throw PageFailure.notFound(wording)
        }
        let finding = try await stores.findings.view(id: UUID(uuidString: detail.task.findingID) ?? id, for: visit.session.principal)
        let agencies = try await stores.database.agencyCodes()
        let page = pages.inboxTask(
            reader: visit.reader, detail: detail, finding: finding, agencies: agencies, formKey: UUID().uuidString.lowercased(), attempt: attempt,
            notice: notice)
        return Web.html(status, page)
    }

    @Sendable func act(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let agency = try Self.agency(visit)
        let id = try Web.id(context, visit)
        let wording = visit.reader.wording
        guard let name = Self.actions[context.parameters.get("action") ?? ""] else {
            throw PageFailure.notFound(wording)
        }
        let values = visit.form.filter { TaskAction.fields(of: name).contains($0.key) }
        let action: TaskAction
        do {
            action = try TaskAction.parse(name, .object(Self.json(values)))
        } catch {
            var errors = FormVerdict.errors(error)
            errors[""] = wording["form-errors"]
            return try await taskPage(
                id, visit: visit, attempt: FormAttempt(form: "act-\(name.rawValue)", values: values, errors: errors), status: .unprocessableContent)
        }
        let principal = visit.session.principal
        let done = name == .transfer ? "/inbox?done=1" : "/inbox/tasks/\(id.lowercased)?done=1"
        let verdict: @Sendable (TaskCommandOutcome) -> FormVerdict = { outcome in
            switch outcome {
            case .applied: .done(done)
            case .notFound: .notFound
            case .conflict(let detail): .refused(.conflict, ["": detail])
            case .rejected(let rejection):
                switch rejection {
                case .invalid(let failure): .refused(.unprocessableContent, FormVerdict.errors(failure).merging(["": rejection.description]) { $1 })
                case .forbidden: .refused(.forbidden, ["": rejection.description])
                case .illegal: .refused(.conflict, ["": rejection.description])
                }
            }
        }
        let form = FormBody(fields: visit.form)
        let result = try await stores.tasks.perform(
            action, on: id, by: .agency(agency), actorName: principal.actor,
            idempotency: Web.idempotency(form.claim(visit, path: "POST /inbox/tasks/\(id.lowercased)/\(name.rawValue)"), verdict: verdict))
        if case .answered(_, .applied) = result {
            context.logger.info("task action from the inbox", metadata: ["task": "\(id.lowercased)", "action": "\(name.rawValue)"])
        }
        return try await Web.answer(result, wording: wording, verdict: verdict) { status, errors in
            try await taskPage(id, visit: visit, attempt: FormAttempt(form: "act-\(name.rawValue)", values: values, errors: errors), status: status)
        }
    }

    /// The form's values as the action's JSON: `days` a number when it is one, `documents_wanted` one
    /// item per line, an optional field left blank absent; the rest as text, for `TaskAction.parse` to judge.
    static func json(_ values: [String: String]) -> [String: JSONValue] {
        var object: [String: JSONValue] = [:]
        for (name, value) in values {
            switch name {
            case "days": object[name] = Int(value.trimmingCharacters(in: .whitespaces)).map { .number(Double($0)) } ?? .string(value)
            case "documents_wanted":
                object[name] = .array(
                    value.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map(
                        JSONValue.string))
            case "note" where value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty: continue
            default: object[name] = .string(value)
            }
        }
        return object
    }

    static func agency(_ visit: WebVisit) throws -> PartyCode {
        guard let agency = visit.agency else { throw PageFailure(status: .forbidden, title: "403", detail: visit.reader.wording["not-found-text"]) }
        return agency
    }
}
