import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import Testing
import TipwireAPI

@Suite("The API while PostgreSQL is away", .timeLimit(.minutes(3)))
struct OutageTests {
    @Test func withPostgreSQLStoppedTheAPIAnswers503WithRetryAfterAndRecoversByItself() async throws {
        let cluster = try await TemporaryCluster()
        defer { cluster.destroy() }
        try await cluster.start()
        let client = PostgresClient(
            configuration: .init(
                connection: PostgresConfiguration(url: cluster.url, connectTimeout: .seconds(2)), maxConnections: 4, acquireTimeout: .seconds(3)))
        defer { client.close() }
        let fixture = try await Fixture.make(client: client)
        defer { fixture.service.close() }
        try await fixture.app().test(.router) { http in
            let token = fixture.token("liaison", "tuoitre")
            #expect(try await http.send(.post("/v1/findings", token: token, json: findingJSON())).status == .created)

            try await cluster.stop()
            let down = try await http.send(.post("/v1/findings", token: token, json: findingJSON()))
            #expect(down.status == .serviceUnavailable, "\(down.text)")
            #expect(down.headers[.retryAfter] != nil)
            #expect(down.headers[.contentType] == "application/problem+json")
            let read = try await http.send(.get("/v1/findings", token: token))
            #expect(read.status == .serviceUnavailable)

            try await cluster.start()
            try await eventually("the API to accept findings again", timeout: .seconds(30)) {
                try await http.send(.post("/v1/findings", token: token, json: findingJSON())).status == .created
            }
            // The owner's pool still holds connections from before the restart; each fails once and is dropped.
            try await eventually("both findings to be counted") { (try? await fixture.count("findings")) == 2 }
        }
    }
}
