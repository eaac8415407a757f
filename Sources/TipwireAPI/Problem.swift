import Foundation
import Hummingbird
import Logging
import TipwireCore
import TipwireStore

/// An RFC 9457 problem: every 4xx and 5xx tipwire sends is one of these, as `application/problem+json`.
/// The types are listed in `docs/problems.md`.
public struct Problem: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// The last segment of the type URI, e.g. `validation`.
    public var slug: String
    public var title: String
    public var detail: String
    public var errors: [FieldError]
    public var headers: HTTPFields
    /// For an illegal transition: the task's current state and what is allowed in it.
    public var state: String?
    public var allowedActions: [String]?

    public static let typeBase = "https://tipwire.dev/problems/"

    public init(_ status: HTTPResponse.Status, _ slug: String, title: String, detail: String, errors: [FieldError] = [], headers: HTTPFields = [:]) {
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    public var description: String { "\(status.code) \(slug): \(detail)" }

    struct Body: Encodable {
        var type: String
        var title: String
        var status: Int
        var detail: String
        var instance: String
        var errors: [FieldError]?
        var state: String?
        var allowedActions: [String]?

        enum CodingKeys: String, CodingKey {
            case type, title, status, detail, instance, errors, state
            case allowedActions = "allowed_actions"
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(
            type: Self.typeBase + slug, title: title, status: status.code, detail: detail, instance: request.uri.path,
            errors: errors.isEmpty ? nil : errors, state: state, allowedActions: allowedActions)
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try TipwireJSON.encode(body))))
    }

    // MARK: - The problems tipwire answers with

    public static func validation(_ failure: ValidationFailure) -> Problem {
        Problem(.unprocessableContent, "validation", title: "The request has invalid fields", detail: failure.description, errors: failure.errors)
    }

    public static func malformed(_ field: String, _ reason: String) -> Problem {
        Problem(
            .badRequest, "malformed-request", title: "The request cannot be read", detail: "\(field): \(reason)", errors: [FieldError(field, reason)])
    }

    public static func unsupportedMediaType(_ received: String?, expected: String) -> Problem {
        let reason = "must be \(expected)" + (received.map { ", not \($0)" } ?? "")
        return Problem(
            .unsupportedMediaType, "unsupported-media-type", title: "Unsupported content type", detail: "Content-Type: \(reason)",
            errors: [FieldError("Content-Type", reason)])
    }

    public static let unauthenticated = Problem(
        .unauthorized, "unauthenticated", title: "Authentication required",
        detail: "send a valid, unrevoked, unexpired API token as 'Authorization: Bearer tw_…' (tipwire token create)",
        errors: [FieldError("Authorization", "missing, malformed, unknown or revoked bearer token")], headers: [.wwwAuthenticate: "Bearer"])

    public static func tokenExpired(at: Date) -> Problem {
        Problem(
            .unauthorized, "token-expired", title: "The token has expired",
            detail: "the token expired at \(formatTimestamp(at)); ask an administrator for a new one (tipwire token rotate)",
            errors: [FieldError("Authorization", "the bearer token expired at \(formatTimestamp(at))")],
            headers: [.wwwAuthenticate: #"Bearer error="invalid_token", error_description="the token has expired""#])
    }

    public static func forbidden(_ role: Role, allowed: [Role]) -> Problem {
        Problem(
            .forbidden, "forbidden", title: "Not allowed for this role",
            detail: "a \(role.rawValue) token cannot do this; it needs one of: \(allowed.map(\.rawValue).joined(separator: ", "))")
    }

    public static func notFound(_ what: String) -> Problem {
        Problem(.notFound, "not-found", title: "Not found", detail: "\(what) does not exist or is not visible to this token")
    }

    public static func tooLarge(_ field: String, limit: Int) -> Problem {
        Problem(
            .contentTooLarge, "payload-too-large", title: "The request body is too large",
            detail: "\(field): must be at most \(limit) bytes (\(limit >= 1_048_576 ? "\(limit / 1_048_576) MiB" : "\(limit / 1024) KiB"))",
            errors: [FieldError(field, "must be at most \(limit) bytes")])
    }

    public static func conflict(_ detail: String) -> Problem {
        Problem(.conflict, "conflict", title: "Conflicts with the current state", detail: detail)
    }

    public static let idempotencyKeyReused = Problem(
        .unprocessableContent, "idempotency-key-reused", title: "Idempotency-Key reused with a different body",
        detail: "Idempotency-Key: was already used for a different request; use a new key for each new request and reuse it only to retry",
        errors: [FieldError("Idempotency-Key", "was already used with a different request body")])

    public static let unavailable = Problem(
        .serviceUnavailable, "unavailable", title: "Temporarily unavailable",
        detail: "the database cannot be reached; nothing was written. Retry after the indicated delay.", headers: [.retryAfter: "5"])
}

/// Turns every error into problem+json: tipwire's own problems as they are, Hummingbird's
/// errors by status, a lost database as 503 with `Retry-After`, anything else as a logged 500.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return try problem.response(from: request, context: context)
        } catch let failure as ValidationFailure {
            return try Problem.validation(failure).response(from: request, context: context)
        } catch let error as HTTPError {
            let problem: Problem
            switch error.status {
            case .notFound:
                if let allowed = routes.methods(for: request.uri.path), !allowed.contains(request.method) {
                    let list = allowed.map(\.rawValue).joined(separator: ", ")
                    problem = Problem(
                        .methodNotAllowed, "method-not-allowed", title: "Method not allowed",
                        detail: "\(request.uri.path) accepts \(list), not \(request.method)", headers: [.allow: list])
                } else {
                    problem = .notFound("\(request.method) \(request.uri.path)")
                }
            case .contentTooLarge:
                problem = Problem(.contentTooLarge, "payload-too-large", title: "The request body is too large", detail: error.body ?? "too large")
            default:
                problem = Problem(
                    error.status, "http-\(error.status.code)", title: error.status.reasonPhrase, detail: error.body ?? error.status.reasonPhrase)
            }
            return try problem.response(from: request, context: context)
        } catch {
            switch StoreFailure(error) {
            case .refusedValue(let field, let reason, let constraint, let sqlState):
                // A value the checks above let through but the database refuses: a 422 naming the field
                // (from the column or constraint), logged without the row, never a 500.
                context.logger.warning(
                    "the database refused a value",
                    metadata: ["sqlstate": "\(sqlState ?? "")", "constraint": "\(constraint ?? "")", "path": "\(request.uri.path)"])
                return try Problem.validation(ValidationFailure(field, "was refused by the database (\(reason))")).response(
                    from: request, context: context)
            case .unavailable(let reason):
                context.logger.warning("database unavailable", metadata: ["error": "\(reason)"])
                return try Problem.unavailable.response(from: request, context: context)
            case .overloaded:
                return try Problem.overloaded.response(from: request, context: context)
            case nil:
                context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
                return try Problem(
                    .internalServerError, "internal", title: "Internal error",
                    detail: "the request failed on the server and was not applied; it has been logged"
                )
                .response(from: request, context: context)
            }
        }
    }
}
