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
        let cursor = try query.get("cursor").map { text -> PageCursor in
            guard let cursor = PageCursor(token: String(text)) else {
                throw PageFailure(status: .badRequest, title: wording["bad-request"], detail: "cursor")
            }
            return cursor
        }
        let page = try await stores.findings.list(FindingFilter(accountedFor: accounted, after: cursor, limit: 50), for: visit.session.principal)
        let notice = query.get("done") == "1" ? wording["action-done"] : nil
        return Web.html(.ok, pages.desk(reader: visit.reader, page: page, accounted: accounted, notice: notice))
    }

    @Sendable func finding(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let wording = visit.reader.wording
        guard let id = UUID(uuidString: context.parameters.get("id") ?? ""),
            let view = try await stores.findings.view(id: id, for: visit.session.principal), let newsroom = visit.session.principal.newsroom
        else { throw PageFailure(status: .notFound, title: wording["not-found"], detail: wording["not-found-text"]) }
        var tasks: [TaskDetail] = []
        for task in view.tasks {
            if let id = UUID(uuidString: task.id), let detail = try await stores.tasks.detail(id, for: .newsroom(newsroom)) { tasks.append(detail) }
        }
        let notice = request.uri.queryParameters.get("done") == "1" ? wording["action-done"] : nil
        return Web.html(.ok, pages.deskFinding(reader: visit.reader, view: view, tasks: tasks, notice: notice))
    }

    @Sendable func form(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        try await formPage(try context.visit(), attempt: nil, status: .ok)
    }

    func formPage(_ visit: WebVisit, attempt: SubmissionAttempt?, status: HTTPResponse.Status) async throws -> Response {
        let choices = try await stores.database.submissionChoices()
        let page = pages.deskSubmit(
            reader: visit.reader, choices: choices, maxDocumentBytes: maxDocumentSize, formKey: UUID().uuidString.lowercased(), attempt: attempt)
        return Web.html(status, page)
    }

    @Sendable func submit(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let wording = visit.reader.wording
        let principal = visit.session.principal
        guard let newsroom = principal.newsroom else { throw PageFailure(status: .forbidden, title: "403", detail: wording["not-found-text"]) }
        let form: MultipartForm
        do {
            form = try await MultipartForm.read(request, maxFileSize: maxDocumentSize, maxFiles: Self.maxFiles)
        } catch {
            throw Self.failure(error, wording: wording, maxDocumentSize: maxDocumentSize)
        }
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
        if let envelope = form.files("source_envelope").first {
            do {
                object["source_envelope"] = try JSONDecoder().decode(JSONValue.self, from: Data(envelope.bytes))
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
            return try await formPage(visit, attempt: SubmissionAttempt(values: values, errors: errors), status: .unprocessableContent)
        }
        // Then the documents, each stored once per content as POST /v1/documents stores it (a form sent
        // again stores nothing twice), and the finding with them.
        var documentIDs: [JSONValue] = []
        for file in documents {
            let stored = try await stores.documents.store(
                newsroom: newsroom, bytes: file.bytes, declaredType: file.contentType, idempotency: .unclaimed)
            switch stored {
            case .answered(_, let document), .refused(let document): documentIDs.append(.string(document.record.id))
            case .replayed, .keyReused: break  // unclaimed: neither happens
            }
        }
        object["document_ids"] = .array(documentIDs)
        let submission: FindingSubmission
        do {
            submission = try FindingSubmission.parse(.object(object), now: Date())
        } catch {
            for failure in error.errors { errors[Self.formField(failure.field)] = failure.reason }
            errors[""] = wording["form-errors"]
            return try await formPage(visit, attempt: SubmissionAttempt(values: values, errors: errors), status: .unprocessableContent)
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
            return try await formPage(visit, attempt: SubmissionAttempt(values: values, errors: errors), status: .unprocessableContent)
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

    static func failure(_ error: MultipartForm.Failure, wording: Wording, maxDocumentSize: Int) -> PageFailure {
        let size = maxDocumentSize >= 1_048_576 ? "\(maxDocumentSize / 1_048_576) MiB" : "\(maxDocumentSize / 1024) KiB"
        switch error {
        case .notMultipart: return PageFailure(status: .unsupportedMediaType, title: "415", detail: "multipart/form-data")
        case .malformed: return PageFailure(status: .badRequest, title: wording["bad-request"], detail: "multipart/form-data")
        case .fileTooLarge(let field, _):
            return PageFailure(
                status: .contentTooLarge, title: "413", detail: wording["file-too-large"].replacingOccurrences(of: "{size}", with: size),
                errors: [wording["field-\(field == "source_envelope" ? "source_envelope" : "documents")"]])
        case .fieldTooLarge(let field, let limit):
            return PageFailure(status: .contentTooLarge, title: "413", detail: "\(field): \(limit / 1024) KiB")
        case .tooManyFiles(let limit):
            return PageFailure(
                status: .contentTooLarge, title: "413", detail: wording["too-many-files"].replacingOccurrences(of: "{count}", with: String(limit)))
        }
    }
}
