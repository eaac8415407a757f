import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwirePages
import TipwireStore

/// Information requests on the desk and in the inbox (docs/desk-and-inbox.md): an agency's requests to
/// the newsroom, which the liaison answers with text and documents or declines with a reason, and the
/// newsroom's questions to agencies, which the agency answers. One set of handlers serves both, under
/// `/desk/requests` and `/inbox/requests`, through `RequestStore` as `POST /v1/requests/{id}/answer` does.
struct RequestPages: Sendable {
    let stores: TipwireStores
    let pages: Pages
    let documents: DocumentsController
    let maxDocumentSize: Int

    var handlers: [String: WebRoutes.Handler] {
        [
            "GET /desk/requests": list, "GET /desk/requests/{id}": show, "POST /desk/requests/{id}/{reply}": reply,
            "GET /inbox/requests": list, "GET /inbox/requests/{id}": show, "POST /inbox/requests/{id}/{reply}": reply,
            "GET /desk/documents/{id}": download, "GET /inbox/documents/{id}": download,
        ]
    }

    /// Where the reader's pages are: the desk for a liaison, the inbox for an agency.
    static func base(_ visit: WebVisit) -> String { visit.agency == nil ? "/desk" : "/inbox" }

    /// The direction a reader answers: the newsroom answers requests to it, an agency questions to it.
    static func answered(by visit: WebVisit) -> RequestDirection { visit.agency == nil ? .toNewsroom : .toAgency }

    @Sendable func list(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let wording = visit.reader.wording
        let query = request.uri.queryParameters
        let direction = try query.get("direction").map { text -> RequestDirection in
            guard let direction = RequestDirection(rawValue: String(text)) else {
                throw PageFailure(status: .badRequest, title: wording["bad-request"], detail: "direction: to-newsroom | to-agency")
            }
            return direction
        }
        let state = try query.get("state").map { text -> String in
            guard ["open", "answered", "declined"].contains(String(text)) else {
                throw PageFailure(status: .badRequest, title: wording["bad-request"], detail: "state: open | answered | declined")
            }
            return String(text)
        }
        let cursor = try Web.cursor(request, visit)
        let shown = direction ?? Self.answered(by: visit)
        let page = try await stores.requests.list(RequestFilter(state: state, direction: shown, after: cursor, limit: 50), for: visit.actor)
        let notice = Web.notice(request, visit)
        return Web.html(
            .ok, pages.requests(reader: visit.reader, base: Self.base(visit), page: page, direction: shown, state: state, notice: notice))
    }

    @Sendable func show(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let notice = Web.notice(request, visit)
        return try await page(try Web.id(context, visit), visit: visit, attempt: nil, status: .ok, notice: notice)
    }

    /// The request's page; `attempt` is a form sent back with its errors.
    func page(_ id: UUID, visit: WebVisit, attempt: FormAttempt?, status: HTTPResponse.Status, notice: String? = nil) async throws -> Response {
        let wording = visit.reader.wording
        guard let view = try await stores.requests.view(id, for: visit.actor) else {
            throw PageFailure.notFound(wording)
        }
        let base = Self.base(visit)
        var forms: [PageForm] = []
        if view.state == "open" && view.direction == Self.answered(by: visit) {
            let size = Pages.limitText(maxDocumentSize)
            var answer = [FormField("answer", .textarea, required: true)]
            if visit.agency == nil {
                answer.append(
                    FormField(
                        "documents", .file(multiple: true, accept: nil), required: false,
                        help: wording["documents-limit"].replacingOccurrences(of: "{size}", with: size)))
            }
            forms = [
                PageForm(id: "answer", action: "\(base)/requests/\(view.id)/answer", label: wording["request-answer"], fields: answer),
                PageForm(
                    id: "decline", action: "\(base)/requests/\(view.id)/decline", label: wording["request-decline"],
                    fields: [FormField("reason", .textarea, required: true)]),
            ]
        }
        return Web.html(status, pages.request(reader: visit.reader, base: base, view: view, forms: forms, attempt: attempt, notice: notice))
    }

    @Sendable func reply(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let wording = visit.reader.wording
        let id = try Web.id(context, visit)
        let name = context.parameters.get("reply") ?? ""
        guard name == "answer" || name == "decline" else {
            throw PageFailure.notFound(wording)
        }
        let declined = name == "decline"
        let form = try await FormBody.read(request, visit: visit, maxFileSize: maxDocumentSize)
        let field = declined ? "reason" : "answer"
        let values = form.fields.filter { $0.key == field }
        let reply: RequestReply
        do {
            reply = try RequestReply.parse(.object(values.mapValues(JSONValue.string)), declined: declined)
        } catch {
            var errors = FormVerdict.errors(error)
            errors[""] = wording["form-errors"]
            return try await page(id, visit: visit, attempt: FormAttempt(form: name, values: values, errors: errors), status: .unprocessableContent)
        }
        if visit.agency != nil, !form.files.isEmpty {
            return try await page(
                id, visit: visit, attempt: FormAttempt(form: name, values: values, errors: ["": wording["agency-no-documents"]]),
                status: .unprocessableContent)
        }
        var documentIDs: [UUID] = []
        if !declined, let newsroom = visit.session.principal.newsroom {
            documentIDs = try await form.storeDocuments("documents", newsroom: newsroom, in: stores.documents)
        }
        let done = "\(Self.base(visit))/requests/\(id.lowercased)?done=1"
        let verdict: @Sendable (RequestOutcome) -> FormVerdict = { outcome in
            switch outcome {
            case .answered: .done(done)
            case .notFound: .notFound
            case .conflict(let detail): .refused(.conflict, ["": detail])
            case .rejected(let failure): .invalid(failure)
            }
        }
        let principal = visit.session.principal
        let result = try await stores.requests.answer(
            id, answer: reply.text, documentIDs: documentIDs, declined: declined, by: visit.actor, actorName: principal.actor,
            idempotency: Web.idempotency(form.claim(visit, path: "POST \(Self.base(visit))/requests/\(id.lowercased)/\(name)"), verdict: verdict))
        if case .answered(_, .answered(let view)) = result {
            context.logger.info("request \(view.state) from a page", metadata: ["request": "\(view.id)", "task": "\(view.taskID)"])
        }
        return try await Web.answer(result, wording: wording, verdict: verdict) { status, errors in
            try await page(id, visit: visit, attempt: FormAttempt(form: name, values: values, errors: errors), status: status)
        }
    }

    @Sendable func download(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let wording = visit.reader.wording
        guard let id = UUID(uuidString: context.parameters.get("id") ?? ""),
            let response = try await documents.serve(id, to: visit.session.principal, request: request)
        else { throw PageFailure.notFound(wording) }
        return response
    }
}
