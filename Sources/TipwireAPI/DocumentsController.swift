import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwireStore

/// `POST /v1/documents` (liaison) and `GET /v1/documents/{id}` (its newsroom, and agencies with a task on a finding linking it).
struct DocumentsController {
    let documents: DocumentStore
    let audit: AuditStore
    let maxSize: Int

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.post("documents", use: upload)
        group.get("documents/{id}", use: download)
    }

    @Sendable func upload(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.liaison)
        guard let newsroom = principal.newsroom else { throw Problem.unauthenticated }
        let bytes = try await HTTP.body(request, limit: maxSize)
        if bytes.isEmpty { throw Problem.validation(ValidationFailure("body", "must not be empty: send the document's bytes as the request body")) }
        let result = try await documents.store(
            newsroom: newsroom, bytes: bytes, declaredType: request.headers[.contentType],
            idempotency: Idempotency(claim: try IdempotencyKey.claim(request, principal: principal, body: bytes)) { stored in
                StoredAnswer(status: stored.created ? 201 : 200, body: try TipwireJSON.encode(stored.record))
            })
        if case .answered(_, let stored) = result {
            context.logger.info(
                "document stored", metadata: ["document": "\(stored.record.id)", "size": "\(stored.record.size)", "new": "\(stored.created)"])
        }
        return try HTTP.answer(result, headers: { [.location: "/v1/documents/\($0.record.id)"] }) { _ in
            Problem.conflict("the document was stored")  // a stored document is always answered
        }
    }

    @Sendable func download(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.liaison, .agency, .coordinator)
        let id = try HTTP.uuid(context, "id", what: "document")
        guard let response = try await serve(id, to: principal, request: request) else { throw Problem.notFound("document \(id.lowercased)") }
        return response
    }

    /// The document `id` for `principal` (nil when it does not exist or is outside the principal's
    /// scope), with its validators and a `Range` honoured; the API and the pages download through it.
    func serve(_ id: UUID, to principal: Principal, request: Request) async throws -> Response? {
        guard let document = try await documents.describe(id: id, for: principal) else { return nil }
        let etag = "\"\(document.sha256)\""
        var headers: HTTPFields = [
            .eTag: etag, .acceptRanges: "bytes", .cacheControl: "private, no-cache",
            .contentDisposition: "attachment; filename=\"\(document.id)\"",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ]
        if let match = request.headers[.ifNoneMatch],
            match.split(separator: ",").contains(where: {
                $0.trimmingCharacters(in: .whitespaces) == etag || $0.trimmingCharacters(in: .whitespaces) == "*"
            })
        {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = document.mediaType
        var range = 0..<document.size
        var status = HTTPResponse.Status.ok
        if let header = request.headers[.range], request.headers[.ifRange].map({ $0 == etag }) ?? true {
            switch ByteRange.parse(header, size: document.size) {
            case .satisfiable(let requested):
                range = requested
                status = .partialContent
                headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(document.size)"
            case .unsatisfiable:
                var problemHeaders = HTTPFields()
                problemHeaders[.contentRange] = "bytes */\(document.size)"
                throw Problem(
                    .rangeNotSatisfiable, "range-not-satisfiable", title: "Range not satisfiable",
                    detail: "Range: the document has \(document.size) bytes",
                    errors: [FieldError("Range", "is outside the document's \(document.size) bytes")], headers: problemHeaders)
            case .ignored:
                break
            }
        }
        // Every download that hands out bytes is on the record, before the bytes leave.
        try await audit.record(.documentRead(document.id, bytes: range, by: principal.actor))
        let bytes = range.isEmpty ? [] : try await documents.content(sha256: document.sha256, offset: range.lowerBound, length: range.count)
        headers[.contentLength] = String(bytes.count)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// A single `bytes=` range (RFC 9110 §14.1.2). Multiple ranges are served as the whole document.
enum ByteRange: Equatable {
    case satisfiable(Range<Int>)
    case unsatisfiable
    case ignored

    static func parse(_ header: String, size: Int) -> ByteRange {
        guard header.hasPrefix("bytes="), !header.contains(",") else { return .ignored }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        let parts = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .ignored }
        if parts[0].isEmpty {
            guard let suffix = Int(parts[1]), suffix >= 0 else { return .ignored }
            if suffix == 0 || size == 0 { return .unsatisfiable }
            return .satisfiable(max(0, size - suffix)..<size)
        }
        guard let start = Int(parts[0]), start >= 0 else { return .ignored }
        let end: Int
        if parts[1].isEmpty {
            end = size - 1
        } else {
            guard let last = Int(parts[1]), last >= start else { return .ignored }
            end = min(last, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .satisfiable(start..<(end + 1))
    }
}
