import ArgumentParser
import Foundation
import Logging
import Postgres
import TipwireStore

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print ratios against a baseline measured in the same run.",
        discussion: """
            Absolute times on shared machines are noisy, so every benchmark runs a reference tool on the same
            work right beside ours and prints ours ÷ reference.
            """,
        subcommands: [BenchIngest.self, BenchResponses.self, BenchDeadlines.self, BenchPostgres.self, BenchKafka.self])
}

/// Runs a program to completion off the cooperative pool; returns its status and combined output.
///
/// Spawned with posix_spawn and an empty signal mask: threads of Dispatch block signals and a child
/// inherits its parent thread's mask, which would keep pgbench from ever seeing the SIGALRM that ends `-T`.
func runTool(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try spawnAndWait(executable, arguments) })
        }
    }
}

private func spawnAndWait(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let outputPath = NSTemporaryDirectory() + "tipwire-tool-\(UUID().uuidString).out"
    defer { try? FileManager.default.removeItem(atPath: outputPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var emptyMask = sigset_t()
    sigemptyset(&emptyMask)
    var defaultSignals = sigset_t()
    sigfillset(&defaultSignals)
    posix_spawnattr_setsigmask(&attributes, &emptyMask)
    posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawnp(&pid, executable, &actions, &attributes, argv, environ)
    guard spawned == 0 else { throw ValidationError("cannot run \(executable): \(String(cString: strerror(spawned))); is it installed?") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1, errno == EINTR {}
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return (exitStatus, output)
}

func formatRate(_ value: Double) -> String {
    String(format: "%10.0f", value)
}

func formatRatio(_ value: Double, target: Double) -> String {
    String(format: "%5.2f×  %@", value, value >= target ? "meets ≥\(target)×" : "BELOW target \(target)×")
}

/// Runs `script` with pgbench for `seconds` and returns its transactions per second.
func pgbenchRate(url: String, script: String, clients: Int, threads: Int? = nil, seconds: Int) async throws -> Double {
    let result = try await runTool(
        "pgbench", ["-n", "-M", "extended", "-c", "\(clients)", "-j", "\(threads ?? min(clients, 4))", "-T", "\(seconds)", "-f", script, url])
    guard result.status == 0, let line = result.output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
        let tps = Double(line.dropFirst(6).prefix { $0 != " " })
    else {
        throw ValidationError("pgbench failed (is it installed? deploy/local/up installs postgresql-contrib):\n\(result.output)")
    }
    return tps
}

/// A benchmark's own schema, made anew: migrated, with the demo parties. `pgbenchURL` reaches it too.
struct BenchSchema {
    let admin: PostgresClient
    let client: PostgresClient
    let pgbenchURL: String
    /// `synchronous_commit` and `fsync`, for the report.
    let durability: (synchronousCommit: String, fsync: String)

    static func create(_ name: String, url: String, maxConnections: Int, logger: Logger) async throws -> BenchSchema {
        let admin = PostgresClient(url: url, maxConnections: 1)
        try await admin.execute("DROP SCHEMA IF EXISTS \(identifier: name) CASCADE")
        try await admin.execute("CREATE SCHEMA \(identifier: name)")
        let settings = try await admin.query("SELECT current_setting('synchronous_commit'), current_setting('fsync')")[0].decode((String, String).self)
        let client = PostgresClient(
            configuration: .init(
                connection: PostgresConfiguration(url: url, applicationName: "tipwire-bench", sessionSettings: ["search_path": name]),
                maxConnections: maxConnections, acquireTimeout: .seconds(10)),
            logger: logger)
        try await TipwireDatabase(client: client).migrate(directory: migrationsDirectory(nil), logger: logger)
        try await DemoData.seedParties(client)
        return BenchSchema(
            admin: admin, client: client, pgbenchURL: url + (url.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(name)", durability: settings)
    }

    /// Every store over the benchmark's schema.
    func stores(links: DocumentLinks = .idsOnly, logger: Logger) -> TipwireStores {
        TipwireStores(database: TipwireDatabase(client: client), links: links, findingsLogger: logger)
    }

    func drop(_ name: String) async throws {
        client.close()
        try await admin.execute("DROP SCHEMA \(identifier: name) CASCADE")
        admin.close()
    }
}
