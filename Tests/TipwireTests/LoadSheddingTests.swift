import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import Testing
import TipwireAPI
import TipwireCore
import TipwireStore

/// Load shedding: a request that cannot start its database work within the admission bound answers 503
/// with Retry-After at once, nothing written; work already started always finishes.
@Suite("Load shedding under overload", .timeLimit(.minutes(2)))
struct LoadSheddingTests {
    /// Holds every connection of `pool` for `duration`, in the background.
    static func occupy(_ pool: PostgresClient, connections: Int, for duration: Duration) -> Task<Void, any Error> {
        Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<connections {
                    group.addTask { try await pool.withConnection { _ in try await Task.sleep(for: duration) } }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func aRequestThatCannotGetTheDatabaseInTimeAnswers503WithRetryAfterAndWritesNothing() async throws {
        try await Fixture.with(maxConnections: 2) { fixture in
            try await fixture.app().test(.router) { client in
                let liaison = fixture.token("liaison", "tuoitre")
                let before = try await fixture.tableCounts()
                let busy = Self.occupy(fixture.service, connections: 2, for: .seconds(3))
                try await Task.sleep(for: .milliseconds(200))
                let started = ContinuousClock.now
                let reply = try await client.send(.post("/v1/findings", token: liaison, json: findingJSON()))
                let waited = started.duration(to: .now)
                #expect(reply.status == .serviceUnavailable, "\(reply.text.prefix(300))")
                #expect(reply.headers[.retryAfter] == "1")
                #expect(reply.headers[.contentType] == "application/problem+json")
                #expect((try reply.json()["type"] as? String)?.hasSuffix("overloaded") == true, "\(reply.text.prefix(300))")
                #expect(waited >= LoadShedding.default.bound - .milliseconds(50) && waited < .seconds(2), "answered after \(waited)")
                #expect(try await fixture.tableCounts() == before, "nothing written")
                try await busy.value
                #expect(try await client.send(.post("/v1/findings", token: liaison, json: findingJSON())).status == .created)
            }
        }
    }

    @Test func aFindingStillQueuedForACommitAtTheBoundIsShedAndOneAlreadyInACommitFinishes() async throws {
        try await Fixture.with(maxConnections: 2) { fixture in
            let store = FindingStore(
                client: fixture.service, links: DocumentLinks(publicURL: Fixture.publicURL), maxConcurrentCommits: 1, logger: quietLogger)
            func request(_ key: String) -> FindingRequest {
                FindingRequest(
                    newsroom: PartyCode(rawValue: "tuoitre")!, actor: "liaison:tuoitre", idempotencyKey: key, requestSHA256: Array(key.utf8),
                    submission: FindingSubmission(
                        articleURL: "https://tuoitre.vn/\(key).htm", title: "Phát hiện \(key)", publishedAt: Date(timeIntervalSinceNow: -3600),
                        summary: "Tóm tắt", category: "land", jurisdiction: PartyCode(rawValue: "cau-giay")!))
            }
            let busy = Self.occupy(fixture.service, connections: 2, for: .seconds(2))
            try await Task.sleep(for: .milliseconds(200))
            // The first finding's commit starts (and waits for a connection); the second queues behind it.
            let first = Task { try await DatabaseAdmission.bounded(by: .milliseconds(300)) { try await store.submit(request("first")) } }
            try await Task.sleep(for: .milliseconds(100))
            let started = ContinuousClock.now
            await #expect(throws: PostgresError.self) {
                try await DatabaseAdmission.bounded(by: .milliseconds(300)) { _ = try await store.submit(request("second")) }
            }
            let waited = started.duration(to: .now)
            #expect(waited >= .milliseconds(300) && waited < .seconds(1), "shed after \(waited)")
            guard case .created = try await first.value else {
                Issue.record("the finding already in a commit was not committed")
                return
            }
            try await busy.value
            #expect(try await fixture.count("findings") == 1)
            #expect(
                try await fixture.client.query("SELECT key FROM idempotency_keys WHERE key LIKE '%second%'").count == 0,
                "the shed finding left nothing")
        }
    }

    @Test func theGateLetsInItsLimitTurnsAWaiterAwayAtItsBoundAndHandsAFreedPlaceToTheNext() async throws {
        let gate = AdmissionGate(limit: 1)
        #expect(await gate.enter(within: .milliseconds(10)))
        let started = ContinuousClock.now
        #expect(await gate.enter(within: .milliseconds(150)) == false, "full: turned away")
        #expect(started.duration(to: .now) >= .milliseconds(150))
        let waiting = Task { await gate.enter(within: .seconds(5)) }
        try await Task.sleep(for: .milliseconds(100))
        gate.leave()
        #expect(await waiting.value, "the freed place goes to the waiter")
        gate.leave()
        #expect(await gate.enter(within: .milliseconds(10)), "empty again")
        gate.leave()
    }

    @Test func theErrorOfAShedWaitIsClassifiedAsOverloadNotAsALostDatabase() {
        let shed = PostgresError(.admissionTimeout, "busy")
        #expect(StoreFailure(shed) == .overloaded(reason: "busy"))
        #expect(shed.isTransient)
        #expect(StoreFailure(PostgresError(.poolTimeout, "busy")) == .unavailable(reason: "busy"))
    }
}
