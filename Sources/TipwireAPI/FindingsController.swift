import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwireStore

/// `POST /v1/findings` (liaison), `GET /v1/findings`, `GET /v1/findings/{id}`.
struct FindingsController {
    let findings: FindingStore
    static let maxBodySize = 1 << 20

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.post("findings", use: submit)
        group.get("findings", use: list)
        group.get("findings/{id}", use: show)
    }

    @Sendable func submit(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.liaison)
        guard let newsroom = principal.newsroom else { throw Problem.unauthenticated }
        try HTTP.requireJSON(request)
        let key = try IdempotencyKey.require(request)
        let body = try await HTTP.body(request, limit: Self.maxBodySize)
        let submission = try FindingSubmission.parse(try HTTP.parseJSON(body), now: Date())
        let outcome = try await findings.submit(
            FindingRequest(
                newsroom: newsroom, actor: principal.actor, idempotencyKey: key, requestSHA256: Digest.sha256(body), submission: submission))
        switch outcome {
        case .created(let view, let body):
            context.logger.info("finding received", metadata: ["finding": "\(view.finding.id)", "tasks": "\(view.tasks.count)"])
            return HTTP.json(.created, body, headers: [.location: "/v1/findings/\(view.finding.id)"])
        case .replayed(let status, let body):
            return HTTP.json(HTTPResponse.Status(code: status), body, headers: [IdempotencyKey.replayedHeader: "true"])
        case .rejected(let failure):
            throw Problem.validation(failure)
        case .keyReused:
            throw Problem.idempotencyKeyReused
        }
    }

    @Sendable func show(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.liaison, .coordinator, .agency)
        let id = try HTTP.uuid(context, "id", what: "finding")
        guard let view = try await findings.view(id: id, for: principal) else { throw Problem.notFound("finding \(id.lowercased)") }
        return try HTTP.json(.ok, view)
    }

    @Sendable func list(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.liaison, .coordinator, .agency)
        var query = QueryReader(request.uri.queryParameters)
        let filter = FindingFilter(
            newsroom: query.code("newsroom"), category: query.code("category")?.rawValue, jurisdiction: query.code("jurisdiction"),
            receivedAfter: query.timestamp("received_after"), receivedBefore: query.timestamp("received_before"), after: query.cursor("cursor"),
            limit: query.limit("limit", default: 20, maximum: 100))
        try query.check()
        return try HTTP.json(.ok, try await findings.list(filter, for: principal))
    }
}

/// The `Idempotency-Key` header: required on `POST /v1/findings`, honoured on every other mutating POST
/// (a retry with the same key and request gets the stored answer; another request with it, 422).
enum IdempotencyKey {
    static let header = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    static func require(_ request: Request) throws -> String {
        guard let key = request.headers[header] else {
            throw Problem(
                .badRequest, "missing-idempotency-key", title: "Idempotency-Key required",
                detail: "Idempotency-Key: is required; send a unique value (e.g. a UUID) per finding and reuse it only to retry",
                errors: [FieldError("Idempotency-Key", "is required")])
        }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw Problem.malformed("Idempotency-Key", "must be 1 to 255 visible ASCII characters")
        }
        return key
    }

    /// The claim of a request that may carry a key: scoped to the caller's party, hashed over the method,
    /// the path and the body. Nil when the request has no key.
    static func claim(_ request: Request, principal: Principal, body: [UInt8]) throws -> IdempotencyClaim? {
        guard request.headers[header] != nil else { return nil }
        let key = try require(request)
        let hashed = Array("\(request.method.rawValue) \(request.uri.path)\n".utf8) + body
        return IdempotencyClaim(scope: principal.account, key: key, requestSHA256: Digest.sha256(hashed))
    }

    /// How a mutating request runs: claimed when it carries a key, and answering `status` with the body
    /// `answer` picks from the outcome (nil for a refusal, which is not stored, so a retry runs again).
    static func idempotency<Outcome: Sendable>(
        _ request: Request, principal: Principal, body: [UInt8], status: Int, answer: @escaping @Sendable (Outcome) -> (any Encodable)?
    ) throws -> Idempotency<Outcome> {
        Idempotency(claim: try claim(request, principal: principal, body: body)) { outcome in
            try answer(outcome).map { StoredAnswer(status: status, body: try TipwireJSON.encode($0)) }
        }
    }
}

/// Reads query parameters, collecting every problem.
struct QueryReader {
    let parameters: Parameters
    var errors: [FieldError] = []

    init(_ parameters: Parameters) { self.parameters = parameters }

    mutating func code(_ name: String) -> PartyCode? {
        guard let text = parameters.get(name) else { return nil }
        guard let code = PartyCode(rawValue: text) else {
            errors.append(FieldError(name, "is not a code: \(PartyCode.validate(text) ?? "invalid")"))
            return nil
        }
        return code
    }

    /// A parameter that must be one of `values`.
    mutating func oneOf(_ name: String, _ values: [String]) -> String? {
        guard let text = parameters.get(name) else { return nil }
        guard values.contains(text) else {
            errors.append(FieldError(name, "must be one of: \(values.joined(separator: ", "))"))
            return nil
        }
        return text
    }

    mutating func timestamp(_ name: String) -> Date? {
        guard let text = parameters.get(name) else { return nil }
        guard let date = parseTimestamp(text) else {
            errors.append(FieldError(name, "must be an RFC 3339 date-time with a time zone"))
            return nil
        }
        return date
    }

    mutating func cursor(_ name: String) -> PageCursor? { cursor(name, PageCursor.init(token:)) }

    /// A cursor of another kind (`SequenceCursor`), read by `parse`.
    mutating func cursor<Cursor>(_ name: String, _ parse: (String) -> Cursor?) -> Cursor? {
        guard let text = parameters.get(name) else { return nil }
        guard let cursor = parse(text) else {
            errors.append(FieldError(name, "is not a cursor this API returned (use next_cursor from the previous page)"))
            return nil
        }
        return cursor
    }

    /// A one-line text parameter of at most `maximum` characters.
    mutating func text(_ name: String, maximum: Int) -> String? {
        guard let text = parameters.get(name).map(TextRules.normalized) else { return nil }
        if let problem = TextRules.problem(text, length: 1...maximum, multiline: false) {
            errors.append(FieldError(name, problem))
            return nil
        }
        return text
    }

    mutating func limit(_ name: String, default value: Int, maximum: Int) -> Int {
        guard let text = parameters.get(name) else { return value }
        guard let limit = Int(text), (1...maximum).contains(limit) else {
            errors.append(FieldError(name, "must be an integer from 1 to \(maximum)"))
            return value
        }
        return limit
    }

    func check() throws {
        if !errors.isEmpty {
            throw Problem(
                .badRequest, "invalid-query", title: "Invalid query parameters", detail: ValidationFailure(errors).description, errors: errors)
        }
    }
}
