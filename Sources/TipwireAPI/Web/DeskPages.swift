import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwirePages
import TipwireStore

/// The newsroom desk (docs/desk-and-inbox.md): a liaison officer's findings, each with its tasks as the
/// newsroom may see them, and the form that submits one with its documents and sealed source details.
/// A submission goes through the same checks and intake as `POST /v1/findings`, and its form carries its
/// own idempotency key, so a form sent twice makes one finding.
struct DeskPages: Sendable {
    let stores: TipwireStores
    let pages: Pages
    let maxDocumentSize: Int

    /// At most this many files in one submission.
    static let maxFiles = 20

    var handlers: [String: WebRoutes.Handler] {
        [
            "GET /desk": list,
            "GET /desk/findings/new": form,
            "POST /desk/findings": submit,
            "GET /desk/findings/{id}": finding,
            "POST /desk/findings/{id}/questions": ask,
        ]
    }

    @Sendable func list(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let wording = visit.reader.wording
        let query = request.uri.queryParameters
        let accounted: Bool?
        switch query.get("state").map({ String($0) }) {
        case nil, "": accounted = nil
        case "open": accounted = false
        case "accounted": accounted = true
        default: throw PageFailure(status: .badRequest, title: wording["bad-request"], detail: "state: open | accounted")
        }
        let cursor = try Web.cursor(request, visit)
        let page = try await stores.findings.list(FindingFilter(accountedFor: accounted, after: cursor, limit: 50), for: visit.session.principal)
        let notice = Web.notice(request, visit)
        return Web.html(.ok, pages.desk(reader: visit.reader, page: page, accounted: accounted, notice: notice))
    }

    @Sendable func finding(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let notice = Web.notice(request, visit)
        return try await findingPage(try Web.id(context, visit), visit: visit, attempt: nil, status: .ok, notice: notice)
    }

    /// The finding's page, with the form that asks its agencies a question; `attempt` is that form sent
    /// back with its errors.
    func findingPage(_ id: UUID, visit: WebVisit, attempt: FormAttempt?, status: HTTPResponse.Status, notice: String? = nil) async throws -> Response
    {
        let wording = visit.reader.wording
        guard let view = try await stores.findings.view(id: id, for: visit.session.principal), let newsroom = visit.session.principal.newsroom
        else { throw PageFailure.notFound(wording) }
        var tasks: [TaskDetail] = []
        for task in view.tasks {
            if let id = UUID(uuidString: task.id), let detail = try await stores.tasks.detail(id, for: .newsroom(newsroom)) { tasks.append(detail) }
        }
        let agencies = Array(Set(view.tasks.map(\.agency.rawValue))).sorted()
        let ask = PageForm(
            id: "ask", action: "/desk/findings/\(view.finding.id)/questions", label: wording["ask-agencies"],
            fields: [
                FormField("question", .textarea, required: true),
                FormField(
                    "agency", .choice([("", wording["every-agency"])] + agencies.map { ($0, $0) }), required: false, label: "field-agency-asked"),
            ])
        return Web.html(
            status,
            pages.deskFinding(reader: visit.reader, view: view, tasks: tasks, forms: agencies.isEmpty ? [] : [ask], attempt: attempt, notice: notice))
    }

    @Sendable func ask(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let wording = visit.reader.wording
        let id = try Web.id(context, visit)
        guard let newsroom = visit.session.principal.newsroom else {
            throw PageFailure.notFound(wording)
        }
        let form = FormBody(fields: visit.form)
        let values = form.fields.filter { ["question", "agency"].contains($0.key) && !($0.key == "agency" && $0.value.isEmpty) }
        let submission: QuestionSubmission
        do {
            submission = try QuestionSubmission.parse(.object(values.mapValues(JSONValue.string)))
        } catch {
            return try await findingPage(
                id, visit: visit,
                attempt: FormAttempt(form: "ask", values: values, errors: FormVerdict.errors(error).merging(["": wording["form-errors"]]) { $1 }),
                status: .unprocessableContent)
        }
        let verdict: @Sendable (RequestAskOutcome) -> FormVerdict = { outcome in
            switch outcome {
            case .asked: .done("/desk/requests?direction=to-agency&done=1")
            case .notFound: .notFound
            case .rejected(let failure): .invalid(failure)
            }
        }
        let result = try await stores.requests.ask(
            finding: id, agency: submission.agency, questions: submission.question, by: newsroom, actorName: visit.session.principal.actor,
            idempotency: Web.idempotency(form.claim(visit, path: "POST /desk/findings/\(id.lowercased)/questions"), verdict: verdict))
        return try await Web.answer(result, wording: wording, verdict: verdict) { status, errors in
            try await findingPage(id, visit: visit, attempt: FormAttempt(form: "ask", values: values, errors: errors), status: status)
        }
    }

    @Sendable func form(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        try await formPage(try context.visit(), attempt: nil, status: .ok)
    }

    func formPage(_ visit: WebVisit, attempt: FormAttempt?, status: HTTPResponse.Status) async throws -> Response {
        let choices = try await stores.database.submissionChoices()
        // The page can seal to the newsroom's current key, when it has one.
        var sealing: (newsroom: String, keyID: String, publicKey: String)?
        if let newsroom = visit.session.principal.newsroom {
            let keys = try await stores.sources.keys(of: newsroom)
            if let current = keys.keys.first(where: { $0.keyID == keys.currentKeyID }) {
                sealing = (newsroom.rawValue, current.keyID, current.publicKey)
            }
        }
        let page = pages.deskSubmit(
            reader: visit.reader, choices: choices, maxDocumentBytes: maxDocumentSize, sealing: sealing, formKey: UUID().uuidString.lowercased(),
            attempt: attempt)
        return Web.html(status, page)
    }

    @Sendable func submit(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let wording = visit.reader.wording
        let principal = visit.session.principal
        guard let newsroom = principal.newsroom else { throw PageFailure(status: .forbidden, title: "403", detail: wording["not-found-text"]) }
        let form = try await FormBody.read(request, visit: visit, maxFileSize: maxDocumentSize, maxFiles: Self.maxFiles)
        let textFields = ["title", "article_url", "published_at", "summary", "category", "jurisdiction", "subject_agency"]
        let values = form.fields.filter { textFields.contains($0.key) }
        guard let key = form.fields["key"].flatMap(UUID.init(uuidString:)) else {
            throw PageFailure(status: .badRequest, title: wording["bad-request"], detail: "key")
        }
        var errors: [String: String] = [:]
        var object: [String: JSONValue] = [:]
        for (name, value) in values where !(name == "subject_agency" && value.isEmpty) {
            object[name] = .string(name == "published_at" ? Self.hanoiInstant(value) : value)
        }
        object["document_ids"] = .array([])
        // The envelope comes as a file made on the liaison's machine, or sealed in the page (one of them).
        let sealedInPage = form.fields["source_envelope_sealed"].flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        let envelopes = form.files("source_envelope").map(\.bytes) + (sealedInPage.map { [$0] } ?? [])
        if envelopes.count > 1 {
            errors["source_envelope"] = wording["envelope-twice"]
        } else if let envelope = envelopes.first {
            do {
                object["source_envelope"] = try JSONDecoder().decode(JSONValue.self, from: Data(envelope))
            } catch {
                errors["source_envelope"] = wording["envelope-not-json"]
            }
        }
        let documents = form.files("documents")
        if let empty = documents.first(where: { $0.bytes.isEmpty }) { errors["documents"] = "\(empty.filename): \(wording["empty-file"])" }
        // Every field is checked before anything is stored: a form refused leaves no document behind.
        do {
            _ = try FindingSubmission.parse(.object(object), now: Date())
        } catch {
            for failure in error.errors { errors[Self.formField(failure.field)] = errors[Self.formField(failure.field)] ?? failure.reason }
        }
        if !errors.isEmpty {
            errors[""] = wording["form-errors"]
            return try await formPage(visit, attempt: FormAttempt(form: "submit", values: values, errors: errors), status: .unprocessableContent)
        }
        // Then the documents, each stored once per content as POST /v1/documents stores it (a form sent
        // again stores nothing twice), and the finding with them.
        let documentIDs = try await form.storeDocuments("documents", newsroom: newsroom, in: stores.documents)
        object["document_ids"] = .array(documentIDs.map { .string($0.lowercased) })
        let submission: FindingSubmission
        do {
            submission = try FindingSubmission.parse(.object(object), now: Date())
        } catch {
            for failure in error.errors { errors[Self.formField(failure.field)] = failure.reason }
            errors[""] = wording["form-errors"]
            return try await formPage(visit, attempt: FormAttempt(form: "submit", values: values, errors: errors), status: .unprocessableContent)
        }
        let body = try TipwireJSON.encode(JSONValue.object(object))
        let outcome = try await stores.findings.submit(
            FindingRequest(
                newsroom: newsroom, actor: principal.actor, idempotencyKey: "page:" + key.lowercased, requestSHA256: Digest.sha256(body),
                submission: submission))
        switch outcome {
        case .created(let view, _):
            context.logger.info("finding received from the desk", metadata: ["finding": "\(view.finding.id)", "tasks": "\(view.tasks.count)"])
            return Web.redirect("/desk/findings/\(view.finding.id)?done=1")
        case .replayed(_, let stored):
            struct Created: Decodable { var id: String }
            let id = (try? JSONDecoder().decode(Created.self, from: Data(stored)))?.id
            return Web.redirect(id.map { "/desk/findings/\($0)?done=1" } ?? "/desk")
        case .rejected(let failure):
            for error in failure.errors { errors[Self.formField(error.field)] = error.reason }
            errors[""] = wording["form-errors"]
            return try await formPage(visit, attempt: FormAttempt(form: "submit", values: values, errors: errors), status: .unprocessableContent)
        case .keyReused:
            throw PageFailure(status: .conflict, title: "409", detail: wording["already-done"])
        }
    }

    /// The form field a submission's JSON field is entered in.
    static func formField(_ field: String) -> String {
        let name = String(field.prefix { $0 != "[" && $0 != "." })
        return name == "document_ids" ? "documents" : name
    }

    /// A `datetime-local` value ("2026-11-20T08:30") read as Hanoi time, in the form the API takes; anything
    /// else as it came, for the submission's own check to name.
    static func hanoiInstant(_ value: String) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let pattern = #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$"#
        guard trimmed.range(of: pattern, options: .regularExpression) != nil else { return trimmed }
        return trimmed + (trimmed.count == 16 ? ":00" : "") + "+07:00"
    }
}
