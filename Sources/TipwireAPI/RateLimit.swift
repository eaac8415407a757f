import Foundation
import Hummingbird
import Metrics
import Synchronization
import TipwireCore

/// How many requests a token may make: `perSecond` on average, in bursts of up to `burst`.
public struct RateLimit: Sendable, Hashable {
    public var perSecond: Double
    public var burst: Double

    public init(perSecond: Double, burst: Double) {
        self.perSecond = max(perSecond, 0.001)
        self.burst = max(burst, 1)
    }

    /// 50 requests a second per token, in bursts of 200: far above what a person or an agency's
    /// integration sends, low enough that one leaked or looping token cannot crowd out the rest.
    public static let `default` = RateLimit(perSecond: 50, burst: 200)
}

/// A token bucket per API token, in memory: each API instance limits the requests it serves itself.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var at: ContinuousClock.Instant
    }

    let limit: RateLimit
    private let buckets = Mutex<[UUID: Bucket]>([:])

    init(_ limit: RateLimit) { self.limit = limit }

    /// Takes one request from `token`'s bucket: nil when admitted, else how long until one is available.
    func admit(_ token: UUID, at now: ContinuousClock.Instant = .now) -> Duration? {
        buckets.withLock { buckets in
            var bucket = buckets[token] ?? Bucket(tokens: limit.burst, at: now)
            let elapsed = (now - bucket.at) / .seconds(1)
            bucket.tokens = min(limit.burst, bucket.tokens + max(0, elapsed) * limit.perSecond)
            bucket.at = now
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                buckets[token] = bucket
                if buckets.count > 10_000 { prune(&buckets, now: now) }
                return nil
            }
            buckets[token] = bucket
            return .milliseconds(Int64(((1 - bucket.tokens) / limit.perSecond * 1000).rounded(.up)))
        }
    }

    /// Forgets buckets that have refilled: they would start full anyway.
    private func prune(_ buckets: inout [UUID: Bucket], now: ContinuousClock.Instant) {
        let refill = Duration.milliseconds(Int64(limit.burst / limit.perSecond * 1000))
        buckets = buckets.filter { now - $0.value.at < refill }
    }
}

/// Answers 429 with `Retry-After` when the caller's token is over its rate; counts what it sheds.
struct RateLimitMiddleware: RouterMiddleware {
    let limiter: RateLimiter
    private let limited = Counter(label: "tipwire_http_rate_limited_total")

    init(limiter: RateLimiter) { self.limiter = limiter }

    func handle(_ request: Request, context: TipwireRequestContext, next: (Request, TipwireRequestContext) async throws -> Response) async throws
        -> Response
    {
        if let principal = context.principal, let wait = limiter.admit(principal.tokenID) {
            limited.increment()
            throw Problem.rateLimited(retryAfter: wait, limit: limiter.limit)
        }
        return try await next(request, context)
    }
}

extension Problem {
    static func rateLimited(retryAfter wait: Duration, limit: RateLimit) -> Problem {
        let seconds = max(1, Int((wait / .seconds(1)).rounded(.up)))
        return Problem(
            .tooManyRequests, "rate-limited", title: "Too many requests",
            detail:
                "this token may make \(Int(limit.perSecond)) requests a second (bursts of \(Int(limit.burst))); nothing was done, retry after \(seconds) s",
            errors: [FieldError("Authorization", "the token is over its request rate")], headers: [.retryAfter: String(seconds)])
    }
}
