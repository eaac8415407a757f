import ChildProcesses
import Foundation
import Postgres
import TestSupport
import Testing
import TipwireCore
import TipwireStore

/// `tipwire provision` plans from the database's parties; `--dry-run` prints the plan without Kafka.
@Suite("tipwire provision")
struct ProvisionTests {
    @Test func theDryRunListsEveryPartysTopicsAndACLsFromTheDatabase() async throws {
        let binary = try tipwireBinary()
        try await Fixture.with { fixture in
            let schema = try await fixture.client.query("SELECT current_schema()")[0].decode(column: 0, as: String.self)
            let url = try TestDatabase.url() + "?options=-csearch_path%3D\(schema)"
            let database = TipwireDatabase(client: fixture.client)
            let expected = KafkaLayout(
                agencies: try await database.agencyCodes(), newsrooms: try await database.newsroomCodes(),
                principals: KafkaPrincipals(tipwire: "User:tipwire-prod", partyTemplate: "User:{code}.hanoi"))
            #expect(expected.topics.contains("tipwire.tasks.so-nnmt") && expected.topics.contains("tipwire.requests.tuoitre"))

            let plan = try await runProgram(
                binary,
                [
                    "provision", "--dry-run", "--database-url", url, "--tipwire-principal", "User:tipwire-prod", "--party-principal",
                    "User:{code}.hanoi",
                ], combineErrors: true)
            #expect(plan.status == 0, "\(plan.output)")
            let lines = plan.output.split(separator: "\n").map(String.init)
            #expect(lines == expected.topics.map { "topic \($0)" } + expected.grants.map { "acl \($0)" })
            #expect(lines.contains("acl User:so-nnmt.hanoi Read group agency-so-nnmt"))

            let topicsOnly = try await runProgram(binary, ["provision", "--dry-run", "--no-acls", "--database-url", url], combineErrors: true)
            #expect(topicsOnly.output.split(separator: "\n").map(String.init) == expected.topics.map { "topic \($0)" })
        }
    }
}
