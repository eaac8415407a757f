import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwireStore

/// Disclosure requests: an agency files one (`POST /v1/disclosure-requests`) citing a legal basis; the
/// newsroom decides (`POST /v1/disclosure-requests/{id}/decision`). Only the two sides see a request; to
/// everyone else it does not exist. Nothing is ever disclosed by the server, which has no source to give.
struct DisclosuresController {
    let disclosures: DisclosureStore

    static let maxBodySize = 8 * 1_048_576

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.post("disclosure-requests", use: file)
        group.get("disclosure-requests", use: list)
        group.get("disclosure-requests/{id}", use: show)
        group.post("disclosure-requests/{id}/decision", use: decide)
        group.get("disclosure-requests/{id}/written-request", use: writtenRequest)
    }

    @Sendable func file(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.agency)
        guard let agency = principal.agency else { throw Problem.unauthenticated }
        try HTTP.requireJSON(request)
        let body = try await HTTP.body(request, limit: Self.maxBodySize)
        let submission: DisclosureSubmission
        do {
            submission = try DisclosureSubmission.parse(try HTTP.parseJSON(body), today: WorkingCalendar.dayOf(Date()))
        } catch let failure as ValidationFailure {
            throw Problem.validation(failure)
        }
        let result = try await disclosures.file(
            submission, by: agency, actor: principal.actor,
            idempotency: try IdempotencyKey.idempotency(request, principal: principal, body: body, status: 201) {
                if case .filed(let view) = $0 { view } else { nil }
            })
        if case .answered(_, .filed(let view)) = result {
            context.logger.notice(
                "disclosure request filed", metadata: ["disclosure_request": "\(view.id)", "agency": "\(agency)", "newsroom": "\(view.newsroom)"])
        }
        return try HTTP.answer(
            result,
            headers: { outcome in
                if case .filed(let view) = outcome { [.location: "/v1/disclosure-requests/\(view.id)"] } else { [:] }
            }
        ) { outcome in
            switch outcome {
            case .filed: Problem.conflict("the request was filed")  // a filed outcome is always answered
            case .notQualified(let reason):
                Problem(
                    .forbidden, "not-qualified", title: "Not entitled to ask under this legal basis", detail: reason,
                    errors: [FieldError("legal_basis", reason)])
            case .unknownBasis(let codes):
                Problem.validation(ValidationFailure("legal_basis", "is not a known legal basis (one of: \(codes.joined(separator: ", ")))"))
            case .noSuchSource: Problem.notFound("source \(submission.sourceHandle.prefix(60))")
            }
        }
    }

    @Sendable func decide(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.liaison)
        guard let newsroom = principal.newsroom else { throw Problem.unauthenticated }
        let id = try HTTP.uuid(context, "id", what: "disclosure request")
        try HTTP.requireJSON(request)
        let body = try await HTTP.body(request, limit: 64 * 1024)
        let (decision, reason): (DisclosureDecision, String)
        do {
            (decision, reason) = try DisclosureDecision.parse(try HTTP.parseJSON(body))
        } catch let failure as ValidationFailure {
            throw Problem.validation(failure)
        }
        let result = try await disclosures.decide(
            id, newsroom: newsroom, decision: decision, reason: reason, actor: principal.actor,
            idempotency: try IdempotencyKey.idempotency(request, principal: principal, body: body, status: 200) {
                if case .decided(let view) = $0 { view } else { nil }
            })
        if case .answered(_, .decided(let view)) = result {
            context.logger.notice("disclosure request decided", metadata: ["disclosure_request": "\(view.id)", "decision": "\(decision.rawValue)"])
        }
        return try HTTP.answer(result) { outcome in
            switch outcome {
            case .decided: Problem.conflict("the request was decided")  // a decided outcome is always answered
            case .notFound: Problem.notFound("disclosure request \(id.lowercased)")
            case .alreadyDecided(let view):
                Problem.conflict(
                    "disclosure request \(view.id) was already decided (\(view.decision?.decision ?? view.state)); a decision is recorded once")
            }
        }
    }

    @Sendable func list(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.liaison, .agency)
        var query = QueryReader(request.uri.queryParameters)
        let after = query.cursor("cursor")
        let limit = query.limit("limit", default: 20, maximum: 100)
        try query.check()
        return try HTTP.json(.ok, try await disclosures.list(for: principal, after: after, limit: limit))
    }

    @Sendable func show(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.liaison, .agency)
        let id = try HTTP.uuid(context, "id", what: "disclosure request")
        guard let view = try await disclosures.view(id, for: principal) else { throw Problem.notFound("disclosure request \(id.lowercased)") }
        return try HTTP.json(.ok, view)
    }

    @Sendable func writtenRequest(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.liaison, .agency)
        let id = try HTTP.uuid(context, "id", what: "disclosure request")
        guard let (bytes, mediaType) = try await disclosures.writtenRequest(id, for: principal) else {
            throw Problem.notFound("disclosure request \(id.lowercased)")
        }
        return Self.letter(bytes, mediaType: mediaType)
    }

    /// A written request's letter as a download, never shown inline nor cached.
    static func letter(_ bytes: [UInt8], mediaType: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: mediaType, .contentDisposition: "attachment", .cacheControl: "no-store", .contentLength: "\(bytes.count)"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
