import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireAPI
import TipwireCore
import TipwireStore

/// Tokens expire, name their holder, record their last use and can be rotated.
@Suite("Token lifetimes and holders", .timeLimit(.minutes(5)))
struct TokenTests {
    @Test func anExpiredTokenGets401SayingSoAndARotatedOneStopsAtOnce() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let store = TokenStore(client: fixture.client)
                let (token, record) = try await store.create(
                    role: .liaison, scope: PartyCode(rawValue: "tuoitre"), holder: "Nguyễn Văn A", lifetime: 3600)
                #expect(record.expiresAt.timeIntervalSinceNow > 3500)
                #expect(record.lastUsedAt == nil)
                #expect(try await client.send(.get("/v1/findings", token: token.text)).status == .ok)
                let used = try #require(try await store.list().first { $0.id == record.id })
                #expect(used.lastUsedAt != nil)

                try await fixture.client.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = \(record.id)")
                let expired = try await client.send(.get("/v1/findings", token: token.text))
                #expect(expired.status == .unauthorized)
                #expect(expired.headers[.contentType] == "application/problem+json")
                #expect(expired.text.contains("token-expired") && expired.text.contains("expired at"))
                #expect(try expired.problemFields() == ["Authorization"])
                // Expired tokens leave the live list.
                #expect(try await store.list().contains { $0.id == record.id } == false)

                // Rotation: the new token works, with the same holder; the old one stops.
                let (fresh, _) = try await store.create(role: .agency, scope: PartyCode(rawValue: "so-nnmt"), holder: "Trần Thị B")
                let oldID = try #require(try await store.list().last?.id)
                let (rotated, rotatedRecord) = try await store.rotate(id: oldID)
                #expect(rotatedRecord.holder == "Trần Thị B" && rotatedRecord.rotatedFrom == oldID && rotatedRecord.agency?.rawValue == "so-nnmt")
                #expect(try await client.send(.get("/v1/tasks", token: rotated.text)).status == .ok)
                #expect(try await client.send(.get("/v1/tasks", token: fresh.text)).status == .unauthorized)
                // A revoked token and a token that never existed are told apart from nothing.
                let unknown = try await client.send(.get("/v1/tasks", token: BearerToken().text))
                #expect(unknown.status == .unauthorized && !unknown.text.contains("token-expired"))
            }
        }
    }

    /// Concurrent lookups share round trips (`SharedBatches`); each still gets its own token's answer.
    @Test func concurrentLookupsOfLiveRevokedExpiredAndUnknownTokensEachGetTheirOwnAnswer() async throws {
        try await Fixture.with { fixture in
            let store = TokenStore(client: fixture.client)
            var tokens: [BearerToken] = []
            var ids: [UUID] = []
            for index in 0..<12 {
                let (token, record) = try await store.create(role: .liaison, scope: PartyCode(rawValue: "tuoitre"), holder: "Officer \(index)")
                tokens.append(token)
                ids.append(record.id)
            }
            for id in ids.prefix(3) { #expect(try await store.revoke(id: id)) }
            try await fixture.client.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = \(ids[3])")
            let asked = tokens + [BearerToken(), BearerToken()]
            try await withThrowingTaskGroup(of: (Int, Authentication).self) { group in
                for _ in 0..<5 {
                    for (index, token) in asked.enumerated() { group.addTask { (index, try await store.authenticate(token)) } }
                }
                for try await (index, answer) in group {
                    switch (index, answer) {
                    case (0..<3, .unknown), (3, .expired), (12..., .unknown): continue
                    case (4..<12, .valid(let principal)):
                        #expect(principal.holder == "Officer \(index)" && principal.tokenID == ids[index])
                    default: Issue.record("token \(index) got \(answer)")
                    }
                }
            }
        }
    }

    @Test func aTokenNamesItsHolderAndTaskEventsNameTheOfficer() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let store = TokenStore(client: fixture.client)
                await #expect(throws: TokenStore.TokenError.self) {
                    try await store.create(role: .agency, scope: PartyCode(rawValue: "so-nnmt"), holder: "  ")
                }
                let (officer, _) = try await store.create(role: .agency, scope: PartyCode(rawValue: "so-nnmt"), holder: "Trần Thị B")
                let (_, tasks) = try await TaskLifecycleHTTPTests.submit(client, fixture)
                let task = try #require(tasks["so-nnmt"])
                let reply = try await client.send(.post("/v1/tasks/\(task)/acknowledge", token: officer.text, json: "{}", key: nil))
                #expect(reply.status == .ok)
                let actors = try await fixture.client.query(
                    "SELECT actor FROM task_events WHERE task_id = \(UUID(uuidString: task)!) AND kind = 'acknowledged'"
                ).decodeColumn(String.self)
                #expect(actors == ["agency:so-nnmt (Trần Thị B)"])
            }
        }
    }

    @Test(arguments: ["90d", "12h", "30m", "730d"])
    func lifetimesInDaysHoursAndMinutesAreAccepted(text: String) {
        #expect(TokenLifetime.problem(text) == nil)
    }

    @Test(arguments: ["", "90", "0d", "-1d", "731d", "1w", "d", "1.5d", "59s", "9223372036854775807d"])
    func otherLifetimesAreRefusedWithAReason(text: String) {
        #expect(TokenLifetime.problem(text) != nil)
    }
}
