import ChildProcesses
import Foundation
import TestSupport
import Testing
import TipwireCore

/// Numbers and settings from flags and the environment are checked before anything starts: a bad one is
/// a usage error naming it, never a crash.
@Suite("Command-line and environment values are checked")
struct CommandLineTests {
    @Test(arguments: [
        ["dev", "--embedded-brokers", "0", "--database-url", "postgres://nowhere"],
        ["relay", "--topic-partitions", "99999999999", "--database-url", "postgres://nowhere", "--kafka-brokers", "127.0.0.1:1"],
        ["serve", "--port", "70000", "--database-url", "postgres://nowhere", "--kafka-brokers", "127.0.0.1:1"],
        ["serve", "--rate-limit", "-1", "--database-url", "postgres://nowhere", "--kafka-brokers", "127.0.0.1:1"],
        ["deadlines", "--deadline-batch", "0", "--database-url", "postgres://nowhere"],
        ["deadlines", "--metrics-port", "0", "--database-url", "postgres://nowhere"],
        ["responses", "--metrics-port", "65536", "--database-url", "postgres://nowhere", "--kafka-brokers", "127.0.0.1:1"],
        ["broker", "--topic", "demo:99999999999"],
        ["calendar", "reporting", "--start-day", "29", "--database-url", "postgres://nowhere"],
        ["stats", "--period", "2026-Q5", "--database-url", "postgres://nowhere"],
        ["stats", "--period", "2026", "--from", "2026-01-01", "--database-url", "postgres://nowhere"],
        ["broker", "--topic", "no spaces:3"],
        ["relay", "--retention-days", "0", "--database-url", "postgres://nowhere", "--kafka-brokers", "127.0.0.1:1"],
        ["relay", "--cluster-check-seconds", "-5", "--database-url", "postgres://nowhere", "--kafka-brokers", "127.0.0.1:1"],
        ["relay", "replay", "--since", "last tuesday", "--database-url", "postgres://nowhere", "--kafka-brokers", "127.0.0.1:1"],
        ["relay", "replay", "--since", "2026-02-30", "--database-url", "postgres://nowhere", "--kafka-brokers", "127.0.0.1:1"],
        [
            "relay", "replay", "--since", "2026-11-01", "--topic", "tipwire/tasks", "--database-url", "postgres://nowhere", "--kafka-brokers",
            "127.0.0.1:1",
        ],
        ["relay", "replay", "--since", "2026-11-01", "--batch", "0", "--database-url", "postgres://nowhere", "--kafka-brokers", "127.0.0.1:1"],
        ["relay", "--kafka-setting", "no.such.property=1", "--database-url", "postgres://nowhere", "--kafka-brokers", "127.0.0.1:1"],
        ["provision", "--party-principal", "User:agency", "--dry-run", "--database-url", "postgres://nowhere"],
        ["provision", "--tipwire-principal", "tip wire", "--dry-run", "--database-url", "postgres://nowhere"],
        ["provision", "--topic-replication", "3", "--min-insync-replicas", "4", "--dry-run", "--database-url", "postgres://nowhere"],
        ["token", "create", "--role", "admin", "--holder", "A", "--expires-in", "9223372036854775807d", "--database-url", "postgres://nowhere"],
    ])
    func aBadValueIsRefusedWithAMessageNotACrash(arguments: [String]) async throws {
        let result = try await runProgram(try tipwireBinary(), arguments, combineErrors: true)
        let (status, text) = (result.status, result.output)
        #expect(status == 64 || status == 1, "exit \(status): \(text.prefix(300))")
        #expect(text.contains("Error: "), "\(text.prefix(300))")
        #expect(!text.contains("Fatal error") && !text.contains("Precondition failed"), "\(text.prefix(300))")
    }

    /// Every number tipwire reads from the environment: one that is not a number is refused, by name,
    /// rather than silently giving way to the default.
    @Test(arguments: [
        ("TIPWIRE_DB_POOL_SIZE", "many", ["deadlines"]),
        ("TIPWIRE_TOPIC_PARTITIONS", "three", ["relay", "--kafka-brokers", "127.0.0.1:1"]),
        ("TIPWIRE_TOPIC_REPLICATION", "3x", ["relay", "--kafka-brokers", "127.0.0.1:1"]),
        ("TIPWIRE_METRICS_PORT", "http", ["deadlines"]),
        ("TIPWIRE_HTTP_PORT", "eighty", ["serve", "--kafka-brokers", "127.0.0.1:1"]),
        ("TIPWIRE_MAX_DOCUMENT_BYTES", "10MB", ["serve", "--kafka-brokers", "127.0.0.1:1"]),
        ("TIPWIRE_RATE_LIMIT", "fast", ["serve", "--kafka-brokers", "127.0.0.1:1"]),
        ("TIPWIRE_RATE_BURST", "1e", ["serve", "--kafka-brokers", "127.0.0.1:1"]),
        ("TIPWIRE_SHED_AFTER_MS", "500ms", ["serve", "--kafka-brokers", "127.0.0.1:1"]),
        ("TIPWIRE_MAX_IN_FLIGHT", " 32", ["serve", "--kafka-brokers", "127.0.0.1:1"]),
    ])
    func aVariableThatIsNotANumberIsRefusedByName(variable: String, value: String, arguments: [String]) async throws {
        let result = try await runProgram(
            try tipwireBinary(), arguments + ["--database-url", "postgres://nowhere"], settings: [variable: value], combineErrors: true)
        #expect(result.status == 64, "exit \(result.status): \(result.output.prefix(300))")
        #expect(result.output.contains("\(variable) must be a number, not '\(value)'"), "\(result.output.prefix(300))")
    }

    /// Free text and base64url keys may begin with a dash (one public key in 64 does): they are the
    /// option's value, not another option. Each command here gets past parsing to its own first check.
    @Test(arguments: [
        (
            ["token", "create", "--role", "nobody", "--holder", "-Nguyễn", "--label", "--on-call", "--database-url", "postgres://nowhere"],
            "--role must be one of"
        ),
        (
            [
                "agency", "respond", "not-a-task", "acknowledge", "--agency", "so-nnmt", "--note", "-", "--questions", "-q", "--want", "-w",
                "--reason", "--r", "--summary", "-s",
            ], "is not a task id"
        ),
    ])
    func aValueBeginningWithADashIsAValue(arguments: [String], firstCheck: String) async throws {
        let result = try await runProgram(try tipwireBinary(), arguments, combineErrors: true)
        #expect(result.status == 64 && result.output.contains(firstCheck), "exit \(result.status): \(result.output.prefix(300))")
    }

    @Test func aPublicKeyBeginningWithADashSealsAndTheEnvelopeOpens() async throws {
        let newsroom = try #require(PartyCode(rawValue: "tuoitre"))
        var key = SourcePrivateKey(newsroom: newsroom)
        while !key.publicKey.base64URL.hasPrefix("-") { key = SourcePrivateKey(newsroom: newsroom) }
        try await ScratchDirectory.with("tipwire-dash-key") { work in
            func path(_ name: String) -> String { work.path(name) }
            try Data(TipwireJSON.encode(key.fileJSON)).write(to: URL(fileURLWithPath: path("key.json")))
            let canary = "canary-2d1e Trần Văn D"
            try canary.write(toFile: path("details.txt"), atomically: true, encoding: .utf8)

            let sealed = try await runProgram(
                try tipwireBinary(),
                ["source", "seal", "--newsroom", "tuoitre", "--public-key", key.publicKey.base64URL, "--in", path("details.txt")])
            #expect(sealed.status == 0, "\(sealed.errors)")
            try sealed.output.write(toFile: path("envelope.json"), atomically: true, encoding: .utf8)
            let opened = try await runProgram(try tipwireBinary(), ["source", "open", "--key", path("key.json"), "--in", path("envelope.json")])
            #expect(opened.status == 0 && opened.output == canary, "\(opened.errors)")
        }
    }

    /// A program a test starts gets none of the caller's tipwire settings, only those it is given: a shell
    /// that sourced a live stack's `.tipwire/env` must not point a test's server at that stack.
    @Test func aChildGetsOnlyTheSettingsItIsGiven() async throws {
        let inherited = [
            "PATH": "/usr/bin:/bin", "TIPWIRE_KAFKA_BROKERS": "127.0.0.1:1", "TIPWIRE_LOG_LEVEL": "nonsense",
            "TIPWIRE_DATABASE_URL": "postgres://tipwire_service:wrong@127.0.0.1:1/tipwire",
        ]
        #expect(childEnvironment(["TIPWIRE_LOG_FORMAT": "json"], inheriting: inherited) == ["PATH": "/usr/bin:/bin", "TIPWIRE_LOG_FORMAT": "json"])

        // This process has deploy/local/test's TIPWIRE_TEST_DATABASE_URL; the child sees only what it was given.
        let printed = try await runProgram("/usr/bin/env", [], settings: ["TIPWIRE_LOG_LEVEL": "info"])
        let settings = printed.output.split(separator: "\n").filter { $0.hasPrefix("TIPWIRE_") }
        #expect(settings == ["TIPWIRE_LOG_LEVEL=info"])
        #expect(printed.output.contains("PATH="), "the rest of the environment is inherited")
    }
}
