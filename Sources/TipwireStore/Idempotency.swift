import Foundation
import Postgres
import TipwireCore

/// A client's `Idempotency-Key` on a mutating request: the party it acts for (`agency:so-nnmt`), the key,
/// and the SHA-256 of the request (method, path and body), so a reused key with another request is told apart.
public struct IdempotencyClaim: Sendable, Hashable {
    public var scope: String
    public var key: String
    public var requestSHA256: [UInt8]

    public init(scope: String, key: String, requestSHA256: [UInt8]) {
        self.scope = scope
        self.key = key
        self.requestSHA256 = requestSHA256
    }
}

/// The answer a request got, as stored for replays: status and JSON body.
public struct StoredAnswer: Sendable, Hashable {
    public var status: Int
    public var body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// How a store method runs a request that may carry an idempotency claim: the claim, if the client sent a
/// key, and how an outcome is answered (nil for a refusal, which wrote nothing and is not stored, so
/// a retry runs again).
public struct Idempotency<Outcome: Sendable>: Sendable {
    public var claim: IdempotencyClaim?
    public var answer: @Sendable (Outcome) throws -> StoredAnswer?

    public init(claim: IdempotencyClaim?, answer: @escaping @Sendable (Outcome) throws -> StoredAnswer?) {
        self.claim = claim
        self.answer = answer
    }
}

/// What became of a request run under `Idempotency`.
public enum Idempotent<Outcome: Sendable>: Sendable {
    /// Committed now, with its answer (stored with the key, when there is one).
    case answered(StoredAnswer, Outcome)
    /// Refused; nothing written, nothing stored.
    case refused(Outcome)
    /// The key was used before with the same request: the stored answer, nothing done again.
    case replayed(StoredAnswer)
    /// The key was used before with a different request. Nothing done.
    case keyReused
}

extension PostgresClient {
    /// Runs `body` in a transaction that also looks up and records the request's idempotency key, so the
    /// action and its stored answer commit together. Concurrent retries of one key wait for each other
    /// (a transaction-scoped advisory lock), so the second sees the first's answer.
    func withTransaction<Outcome: Sendable>(
        _ idempotency: Idempotency<Outcome>, _ body: (PostgresConnection) async throws -> Outcome
    ) async throws -> Idempotent<Outcome> {
        try await withTransaction { connection in
            if let claim = idempotency.claim {
                let stored = try await connection.pipeline([
                    "SELECT pg_advisory_xact_lock(hashtextextended(\(claim.scope) || ' ' || \(claim.key), 0))",
                    "SELECT request_sha256, status, response FROM idempotency_keys WHERE scope = \(claim.scope) AND key = \(claim.key)",
                ])
                if let row = stored[1].firstRow {
                    let (hash, status, response) = try row.decode(([UInt8], Int, String).self)
                    return hash == claim.requestSHA256 ? .replayed(StoredAnswer(status: status, body: Array(response.utf8))) : .keyReused
                }
            }
            let outcome = try await body(connection)
            guard let answer = try idempotency.answer(outcome) else { return .refused(outcome) }
            if let claim = idempotency.claim {
                try await connection.execute(
                    """
                    INSERT INTO idempotency_keys (scope, key, request_sha256, status, response)
                    VALUES (\(claim.scope), \(claim.key), \(claim.requestSHA256), \(answer.status), \(String(decoding: answer.body, as: UTF8.self)))
                    """)
            }
            return .answered(answer, outcome)
        }
    }
}

extension Idempotency {
    /// A request without a key: it simply runs, and nothing is stored.
    public static var unclaimed: Idempotency { Idempotency(claim: nil) { _ in nil } }
}

extension Idempotent {
    /// The outcome of a request that ran now; nil for a replay or a reused key.
    public var outcome: Outcome? {
        switch self {
        case .answered(_, let outcome), .refused(let outcome): outcome
        case .replayed, .keyReused: nil
        }
    }
}
