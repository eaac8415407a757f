import Foundation
import HTTPTypes
import Hummingbird
import TipwireCore
import TipwirePages
import TipwireStore

/// A page form's body: its text fields and, for a form with files (multipart), its files.
struct FormBody {
    var fields: [String: String]
    var files: [MultipartForm.File] = []

    func files(_ field: String) -> [MultipartForm.File] { files.filter { $0.field == field } }

    /// The form `visit` posted: read by the session middleware already, or (multipart) read here as it
    /// streams, each file at most `maxFileSize`. A limit passed is a page that names it.
    static func read(_ request: Request, visit: WebVisit, maxFileSize: Int, maxFiles: Int = 20) async throws -> FormBody {
        guard MultipartForm.boundary(request.headers[.contentType] ?? "") != nil else { return FormBody(fields: visit.form) }
        do {
            let form = try await MultipartForm.read(request, maxFileSize: maxFileSize, maxFiles: maxFiles)
            return FormBody(fields: form.fields, files: form.files)
        } catch {
            throw error.page(visit.reader.wording, maxFileSize: maxFileSize)
        }
    }

    /// The idempotency claim of a form sent with its key (a fresh one each time the form is shown): the
    /// same form sent twice is one action, whatever its path and values (files by their digests).
    func claim(_ visit: WebVisit, path: String) -> IdempotencyClaim? {
        guard let key = fields["key"].flatMap(UUID.init(uuidString:)) else { return nil }
        let values = fields.filter { $0.key != "key" && $0.key != "csrf" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let digests = files.map { "\($0.field)#\(Hex.encode(Digest.sha256($0.bytes)))" }
        let canonical = ([path] + values + digests).joined(separator: "\n")
        return IdempotencyClaim(
            scope: visit.session.principal.account, key: "page:" + key.lowercased, requestSHA256: Digest.sha256(Array(canonical.utf8)))
    }

    /// Stores the files of `field` for `newsroom` as `POST /v1/documents` stores them (once per content,
    /// so a form sent again stores nothing twice), and gives their ids.
    func storeDocuments(_ field: String, newsroom: PartyCode, in documents: DocumentStore) async throws -> [UUID] {
        var ids: [UUID] = []
        for file in files(field) {
            switch try await documents.store(newsroom: newsroom, bytes: file.bytes, declaredType: file.contentType, idempotency: .unclaimed) {
            case .answered(_, let document), .refused(let document):
                if let id = UUID(uuidString: document.record.id) { ids.append(id) }
            case .replayed, .keyReused: break  // unclaimed: neither happens
            }
        }
        return ids
    }
}

/// What a form's command came to, for its page: done (go to `location`), no such thing, or refused with
/// the status and the errors by field (`""` for the form as a whole).
enum FormVerdict {
    case done(String)
    case notFound
    case refused(HTTPResponse.Status, [String: String])

    /// A validation failure as a form refused: its errors by the form field each names.
    static func invalid(_ failure: ValidationFailure) -> FormVerdict { .refused(.unprocessableContent, errors(failure)) }

    /// A validation failure's errors by the form field each names (`documents[2]` and `written_request.content`
    /// are their form's `documents` and `written_request`).
    static func errors(_ failure: ValidationFailure) -> [String: String] {
        var errors: [String: String] = [:]
        for error in failure.errors {
            let field = String(error.field.prefix { $0 != "[" && $0 != "." })
            errors[field] = errors[field] ?? error.reason
        }
        return errors
    }
}

extension Web {
    /// The answer to a form whose command ran under its idempotency claim: a redirect when it was done
    /// (now, or before with the same form: the stored location), else the form's page again with its
    /// errors (`again`), a 404 page, or a 409 page for a key reused with another form.
    static func answer<Outcome>(
        _ result: Idempotent<Outcome>, wording: Wording, verdict: (Outcome) -> FormVerdict,
        again: (HTTPResponse.Status, [String: String]) async throws -> Response
    ) async throws -> Response {
        switch result {
        case .answered(_, let outcome), .refused(let outcome):
            switch verdict(outcome) {
            case .done(let location): return redirect(location)
            case .notFound: throw PageFailure.notFound(wording)
            case .refused(let status, var errors):
                errors[""] = errors[""] ?? wording["form-errors"]
                return try await again(status, errors)
            }
        case .replayed(let stored): return redirect(String(decoding: stored.body, as: UTF8.self))
        case .keyReused: throw PageFailure(status: .conflict, title: "409", detail: wording["already-done"])
        }
    }

    /// How a form's command is stored under its key: the location a done form went to.
    static func idempotency<Outcome>(_ claim: IdempotencyClaim?, verdict: @escaping @Sendable (Outcome) -> FormVerdict) -> Idempotency<Outcome> {
        Idempotency(claim: claim) { outcome in
            guard case .done(let location) = verdict(outcome) else { return nil }
            return StoredAnswer(status: 303, body: Array(location.utf8))
        }
    }
}

extension MultipartForm.Failure {
    /// The page for a form refused as it streamed, naming the limit it passed.
    func page(_ wording: Wording, maxFileSize: Int) -> PageFailure {
        let size = Pages.limitText(maxFileSize)
        switch self {
        case .notMultipart: return PageFailure(status: .unsupportedMediaType, title: "415", detail: "multipart/form-data")
        case .malformed: return PageFailure(status: .badRequest, title: wording["bad-request"], detail: "multipart/form-data")
        case .fileTooLarge(let field, _):
            let label = Wording.texts["field-\(field)"] == nil ? field : wording["field-\(field)"]
            return PageFailure(
                status: .contentTooLarge, title: "413", detail: wording["file-too-large"].replacingOccurrences(of: "{size}", with: size),
                errors: [label])
        case .fieldTooLarge(let field, let limit):
            return PageFailure(status: .contentTooLarge, title: "413", detail: "\(field): \(limit / 1024) KiB")
        case .tooManyFiles(let limit):
            return PageFailure(
                status: .contentTooLarge, title: "413", detail: wording["too-many-files"].replacingOccurrences(of: "{count}", with: String(limit)))
        }
    }
}
