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
    let documents: DocumentsController

    var handlers: [String: WebRoutes.Handler] {
        [
            "GET /inbox": list,
            "GET /inbox/tasks/{id}": task,
            "POST /inbox/tasks/{id}/{action}": act,
            "GET /inbox/documents/{id}": download,
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
        let cursor = try request.uri.queryParameters.get("cursor").map { text -> PageCursor in
            guard let cursor = PageCursor(token: text) else {
                throw PageFailure(status: .badRequest, title: visit.reader.wording["bad-request"], detail: "cursor")
            }
            return cursor
        }
        let page = try await stores.tasks.inbox(agency: agency, after: cursor)
        let notice = request.uri.queryParameters.get("done") == "1" ? visit.reader.wording["action-done"] : nil
        return Web.html(.ok, pages.inbox(reader: visit.reader, page: page, notice: notice))
    }

    @Sendable func task(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let notice = request.uri.queryParameters.get("done") == "1" ? visit.reader.wording["action-done"] : nil
        return try await taskPage(try Self.id(context, visit), visit: visit, attempt: nil, status: .ok, notice: notice)
    }

    /// The task page; `attempt` shows a form sent back with its errors.
    func taskPage(_ id: UUID, visit: WebVisit, attempt: ActionAttempt?, status: HTTPResponse.Status, notice: String? = nil) async throws -> Response {
        let agency = try Self.agency(visit)
        let wording = visit.reader.wording
        guard let detail = try await stores.tasks.detail(id, for: .agency(agency)) else {
            throw PageFailure(status: .notFound, title: wording["not-found"], detail: wording["not-found-text"])
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
        let id = try Self.id(context, visit)
        let wording = visit.reader.wording
        guard let name = Self.actions[context.parameters.get("action") ?? ""] else {
            throw PageFailure(status: .notFound, title: wording["not-found"], detail: wording["not-found-text"])
        }
        let values = visit.form.filter { TaskAction.fields(of: name).contains($0.key) }
        let action: TaskAction
        do {
            action = try TaskAction.parse(name, .object(Self.json(values)))
        } catch {
            var errors = Dictionary(error.errors.map { (String($0.field.prefix { $0 != "[" }), $0.reason) }) { first, _ in first }
            errors[""] = wording["form-errors"]
            return try await taskPage(
                id, visit: visit, attempt: ActionAttempt(action: name, values: values, errors: errors), status: .unprocessableContent)
        }
        let principal = visit.session.principal
        let claim = visit.form["key"].flatMap(UUID.init(uuidString:)).map { key in
            let canonical =
                "POST /inbox/tasks/\(id.lowercased)/\(name.rawValue)\n"
                + values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
            return IdempotencyClaim(scope: principal.account, key: "page:" + key.lowercased, requestSHA256: Digest.sha256(Array(canonical.utf8)))
        }
        let done = name == .transfer ? "/inbox?done=1" : "/inbox/tasks/\(id.lowercased)?done=1"
        let result = try await stores.tasks.perform(
            action, on: id, by: .agency(agency), actorName: principal.actor,
            idempotency: Idempotency(claim: claim) { outcome in
                guard case .applied = outcome else { return nil }
                return StoredAnswer(status: 303, body: Array(done.utf8))
            })
        switch result {
        case .answered(_, .applied), .refused(.applied):  // an applied outcome is always answered
            context.logger.info("task action from the inbox", metadata: ["task": "\(id.lowercased)", "action": "\(name.rawValue)"])
            return Web.redirect(done)
        case .replayed: return Web.redirect(done)
        case .keyReused:
            throw PageFailure(status: .conflict, title: "409", detail: wording["already-done"])
        case .answered(_, .notFound), .refused(.notFound):
            throw PageFailure(status: .notFound, title: wording["not-found"], detail: wording["not-found-text"])
        case .answered(_, .rejected(let rejection)), .refused(.rejected(let rejection)):
            var errors: [String: String] = ["": rejection.description]
            if case .invalid(let failure) = rejection {
                for error in failure.errors {
                    let field = String(error.field.prefix { $0 != "[" })
                    errors[field] = errors[field] ?? error.reason
                }
            }
            let status: HTTPResponse.Status =
                switch rejection {
                case .illegal: .conflict
                case .forbidden: .forbidden
                case .invalid: .unprocessableContent
                }
            return try await taskPage(id, visit: visit, attempt: ActionAttempt(action: name, values: values, errors: errors), status: status)
        case .answered(_, .conflict(let detail)), .refused(.conflict(let detail)):
            return try await taskPage(
                id, visit: visit, attempt: ActionAttempt(action: name, values: values, errors: ["": detail]), status: .conflict)
        }
    }

    @Sendable func download(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let wording = visit.reader.wording
        guard let id = UUID(uuidString: context.parameters.get("id") ?? ""),
            let response = try await documents.serve(id, to: visit.session.principal, request: request)
        else { throw PageFailure(status: .notFound, title: wording["not-found"], detail: wording["not-found-text"]) }
        return response
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

    static func id(_ context: TipwireRequestContext, _ visit: WebVisit) throws -> UUID {
        guard let id = UUID(uuidString: context.parameters.get("id") ?? "") else {
            throw PageFailure(status: .notFound, title: visit.reader.wording["not-found"], detail: visit.reader.wording["not-found-text"])
        }
        return id
    }
}
