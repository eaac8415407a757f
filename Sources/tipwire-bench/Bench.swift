import ArgumentParser
import ChildProcesses
import Foundation
import Logging
import Postgres
import TipwireCommandLine
import TipwireStore

@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tipwire-bench",
        abstract: "tipwire's benchmarks: each prints ratios against a baseline measured in the same run.",
        discussion: """
            Absolute times on shared machines are noisy, so every benchmark runs a
            reference tool on the same work right beside ours (pgbench for the same
            SQL, kcat for the same messages) and prints ours ÷ reference. Each works
            in a schema of its own (tipwire_bench_*) of TIPWIRE_DATABASE_URL.

            Examples:
              tipwire-bench postgres     our pool vs pgbench on the same SQL
              tipwire-bench ingest       POST /v1/findings vs pgbench, same transaction
              tipwire-bench dashboard    the dashboard over 1,000,000 tasks vs pgbench on its SQL
            """,
        version: TipwireVersion.current,
        subcommands: [BenchDashboard.self, BenchIngest.self, BenchResponses.self, BenchDeadlines.self, BenchPostgres.self, BenchKafka.self])
}

/// Runs a reference tool to completion; its status and its output and errors, interleaved.
func runTool(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    do {
        let result = try await runProgram(executable, arguments, combineErrors: true)
        return (result.status, result.output)
    } catch let error as ProgramNotRun {
        throw ValidationError(error.description)
    }
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

/// Runs `script` `transactions` times with pgbench (one client, simple protocol) and returns its average
/// latency in milliseconds.
func pgbenchLatency(url: String, script: String, transactions: Int = 1) async throws -> Double {
    let result = try await runTool("pgbench", ["-n", "-M", "simple", "-c", "1", "-t", "\(transactions)", "-f", script, url])
    guard result.status == 0, let line = result.output.split(separator: "\n").first(where: { $0.hasPrefix("latency average = ") }),
        let milliseconds = Double(line.dropFirst("latency average = ".count).prefix { $0 != " " })
    else {
        throw ValidationError("pgbench failed (is it installed? deploy/local/up installs postgresql-contrib):\n\(result.output)")
    }
    return milliseconds
}

/// A benchmark's own schema, made anew: migrated, with the demo parties. `pgbenchURL` reaches it too.
struct BenchSchema {
    let admin: PostgresClient
    let client: PostgresClient
    let pgbenchURL: String
    /// `synchronous_commit` and `fsync`, for the report.
    let durability: (synchronousCommit: String, fsync: String)

    /// A fresh schema `name`, migrated and seeded; `reuse` keeps the one a `--keep-schema` run left, its
    /// migrations brought up to date.
    static func create(_ name: String, url: String, maxConnections: Int, reuse: Bool = false, logger: Logger) async throws -> BenchSchema {
        let admin = PostgresClient(url: url, maxConnections: 1)
        if !reuse { try await admin.execute("DROP SCHEMA IF EXISTS \(identifier: name) CASCADE") }
        try await admin.execute("CREATE SCHEMA IF NOT EXISTS \(identifier: name)")
        let settings = try await admin.query("SELECT current_setting('synchronous_commit'), current_setting('fsync')")[0].decode(
            (String, String).self)
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

    /// Writes without marking days stale for the rollups (migrations 0023 and 0025), to measure what the
    /// marks cost: `--rollups off`. The folds that keep the timelines mark the days themselves, so off puts
    /// back the folds as they were before the rollups (migrations 0020 and 0021), and turns off the trigger
    /// that marks raised rungs. The pgbench baselines run without them too.
    func setRollupMarks(_ on: Bool) async throws {
        if on { return }
        let before = try PostgresMigrator.load(directory: migrationsDirectory(nil)).filter {
            $0.name.hasPrefix("0020_") || $0.name.hasPrefix("0021_")
        }
        guard before.count == 2 else { throw ValidationError("--rollups off needs migrations 0020 and 0021 in the migrations directory") }
        try await client.withConnection { connection in
            for migration in before { try await connection.executeScript(migration.sql) }
            try await connection.execute("ALTER TABLE deadline_rungs DISABLE TRIGGER stats_rollup_rungs_raised")
        }
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

/// `--rollups on|off`: whether writes mark days stale for the rollups, as in service (on), or not.
struct RollupOptions: ParsableArguments {
    @Option(help: "on: writes mark the days they change stale for the rollups, as in service; off: they do not, to measure the cost.")
    var rollups: String = "on"

    func validate() throws {
        guard ["on", "off"].contains(rollups) else { throw ValidationError("--rollups must be on or off") }
    }

    var on: Bool { rollups == "on" }
}

/// Writes a pgbench script running `statements` with their parameters written in as literals of their
/// types, and returns its path.
func writePgbenchScript(_ statements: [PostgresQuery], client: PostgresClient, name: String) async throws -> String {
    var typeNames: [UInt32: String] = [:]
    for oid in Set(statements.flatMap(\.parameterTypes).map(\.rawValue)) where oid != 0 {
        typeNames[oid] = try await client.query("SELECT \(Int(oid))::oid::regtype::text")[0].decode(column: 0, as: String.self)
    }
    let text = try statements.map { try literalSQL($0, typeNames: typeNames) + ";\n" }.joined()
    let path = NSTemporaryDirectory() + "tipwire-bench-\(name)-\(UUID().uuidString).sql"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// `query`'s SQL with each `$n` replaced by its parameter as a literal (cast to its type when it has one).
func literalSQL(_ query: PostgresQuery, typeNames: [UInt32: String]) throws -> String {
    func literal(_ index: Int) throws -> String {
        guard query.parameters.indices.contains(index) else { throw ValidationError("no parameter $\(index + 1) in \(query.sql)") }
        let type = query.parameterTypes.indices.contains(index) ? typeNames[query.parameterTypes[index].rawValue] : nil
        let cast = type.map { "::" + $0 } ?? ""
        switch query.parameters[index] {
        case .null: return "NULL" + cast
        case .text(let text): return "'" + text.replacingOccurrences(of: "'", with: "''") + "'" + cast
        case .binary: throw ValidationError("a binary parameter in \(query.sql)")
        }
    }
    var sql = ""
    var characters = query.sql[...]
    while let character = characters.popFirst() {
        guard character == "$", let digit = characters.first, digit.isASCII, digit.isNumber else {
            sql.append(character)
            continue
        }
        let digits = characters.prefix { $0.isASCII && $0.isNumber }
        characters = characters.dropFirst(digits.count)
        sql += try literal((Int(digits) ?? 0) - 1)
    }
    return sql
}
