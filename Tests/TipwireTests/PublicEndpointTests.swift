import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import TipwireAPI
import TipwireCore
import TipwireStore

/// What anyone can reach, and how much any one token may ask.
@Suite("Public endpoints and rate limits", .timeLimit(.minutes(5)))
struct PublicEndpointTests {
    struct Down: Error, CustomStringConvertible {
        var description: String { "broker 10.0.0.7:9093 refused the connection" }
    }

    @Test func healthSaysOnlyUpOrDownWithoutATokenAndDetailsWithOne() async throws {
        try await Fixture.with { fixture in
            let checks = [
                HealthCheck(name: "database", run: {}),
                HealthCheck(name: "kafka", detail: "10.0.0.7:9093", run: { throw Down() }),
            ]
            try await fixture.app(checks: checks).test(.router) { client in
                let anonymous = try await client.send(.get("/healthz", token: nil))
                #expect(anonymous.status == .serviceUnavailable)
                #expect(try anonymous.json().keys.sorted() == ["status"])
                #expect(!anonymous.text.contains("10.0.0.7"))
                let forged = try await client.send(.get("/healthz", token: BearerToken().text))
                #expect(try forged.json().keys.sorted() == ["status"])

                let detailed = try await client.send(.get("/healthz", token: fixture.token("agency", "so-nnmt")))
                #expect(detailed.status == .serviceUnavailable)
                let body = try detailed.json()
                #expect(body["version"] as? String == "test")
                let kafka = try #require((body["checks"] as? [String: Any])?["kafka"] as? [String: Any])
                #expect(kafka["detail"] as? String == "10.0.0.7:9093")
                #expect((kafka["error"] as? String)?.contains("refused") == true)
            }
        }
    }

    @Test func aTokenOverItsRateGets429WithRetryAfterAndOtherTokensAreUnaffected() async throws {
        // One request a second would refill the bucket whenever a loaded machine takes a second per request;
        // one per 100 s cannot within the test.
        try await Fixture.with(rateLimit: RateLimit(perSecond: 0.01, burst: 3)) { fixture in
            try await fixture.app().test(.router) { client in
                let agency = fixture.token("agency", "so-nnmt")
                var statuses: [HTTPResponse.Status] = []
                var limited: Reply?
                for _ in 0..<5 {
                    let reply = try await client.send(.get("/v1/tasks", token: agency))
                    statuses.append(reply.status)
                    if reply.status == .tooManyRequests { limited = reply }
                }
                #expect(statuses.prefix(3).allSatisfy { $0 == .ok })
                #expect(statuses.last == .tooManyRequests)
                let reply = try #require(limited)
                #expect(reply.headers[.contentType] == "application/problem+json")
                #expect(Int(reply.headers[.retryAfter] ?? "") ?? 0 >= 1)
                #expect(try reply.problemFields() == ["Authorization"])
                #expect(try await client.send(.get("/v1/tasks", token: fixture.token("agency", "ubnd-cau-giay"))).status == .ok)
                // Health and metrics are never limited.
                for _ in 0..<5 { #expect(try await client.send(.get("/healthz", token: nil)).status == .ok) }
            }
        }
    }
}
