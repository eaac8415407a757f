import Foundation
import Hummingbird
import TipwireCore
import TipwireStore

/// Small pieces every controller uses.
enum HTTP {
    static func json(_ status: HTTPResponse.Status, _ body: [UInt8], headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func json(_ status: HTTPResponse.Status, _ value: some Encodable, headers: HTTPFields = [:]) throws -> Response {
        json(status, try TipwireJSON.encode(value), headers: headers)
    }

    /// Requires a JSON request body (`application/json` or `application/*+json`).
    static func requireJSON(_ request: Request) throws {
        let received = request.headers[.contentType]
        let essence = received.map(MediaTypeSniffer.essence) ?? ""
        guard essence == "application/json" || (essence.hasPrefix("application/") && essence.hasSuffix("+json")) else {
            throw Problem.unsupportedMediaType(received, expected: "application/json")
        }
    }

    /// Reads the whole body, refusing more than `limit` bytes with a 413 problem.
    static func body(_ request: Request, limit: Int, field: String = "body") async throws -> [UInt8] {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw Problem.tooLarge(field, limit: limit) }
        do {
            let buffer = try await request.body.collect(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw Problem.tooLarge(field, limit: limit)
        }
    }

    /// Parses a JSON body into a value for field-by-field checks; 400 when it is not JSON.
    static func parseJSON(_ bytes: [UInt8]) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw Problem.malformed("body", "is not valid JSON")
        }
    }

    /// The stored answer of an idempotent request, or the problem its refusal maps to.
    static func answer<Outcome>(
        _ result: Idempotent<Outcome>, headers: (Outcome) -> HTTPFields = { _ in [:] }, refused problem: (Outcome) -> Problem
    ) throws -> Response {
        switch result {
        case .answered(let answer, let outcome): return json(HTTPResponse.Status(code: answer.status), answer.body, headers: headers(outcome))
        case .replayed(let answer):
            return json(HTTPResponse.Status(code: answer.status), answer.body, headers: [IdempotencyKey.replayedHeader: "true"])
        case .keyReused: throw Problem.idempotencyKeyReused
        case .refused(let outcome): throw problem(outcome)
        }
    }

    static func uuid(_ context: some RequestContext, _ name: String, what: String) throws -> UUID {
        guard let text = context.parameters.get(name), let id = UUID(uuidString: text) else {
            throw Problem.notFound("\(what) \(context.parameters.get(name) ?? "")")
        }
        return id
    }
}
