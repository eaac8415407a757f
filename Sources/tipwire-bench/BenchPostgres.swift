import ArgumentParser
import Foundation
import Postgres
import TipwireCommandLine

struct BenchPostgres: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "postgres",
        abstract: "Single-row insert transactions through our pool vs pgbench running the same SQL.",
        discussion: """
            For each client count, pgbench runs `INSERT INTO tipwire_bench.rows (n) VALUES (:n)` (extended protocol)
            for --seconds, and our pool runs the same statement with a bound parameter from as many tasks,
            each on its own connection; --rounds times, alternating the order, truncating the table before
            each run. Prints transactions/s and ours ÷ pgbench (target ≥ 0.9×).
            Uses the database in TIPWIRE_DATABASE_URL; creates and drops schema tipwire_bench.
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Seconds per measurement.")
    var seconds: Int = 5

    @Option(help: "Rounds per client count; figures are the mean of the rounds.")
    var rounds: Int = 3

    @Option(parsing: .upToNextOption, help: "Client counts to measure.")
    var clients: [Int] = [1, 8]

    func run() async throws {
        let url = try database.databaseURL()
        let client = PostgresClient(url: url, maxConnections: (clients.max() ?? 1) + 1)
        defer { client.close() }
        try await client.execute("DROP SCHEMA IF EXISTS tipwire_bench CASCADE")
        try await client.execute("CREATE SCHEMA tipwire_bench")
        try await client.execute(
            "CREATE TABLE tipwire_bench.rows (id bigserial PRIMARY KEY, n bigint NOT NULL, at timestamptz NOT NULL DEFAULT now())")
        let settings = try await client.query("SELECT current_setting('synchronous_commit'), current_setting('fsync')").firstRow!.decode(
            (String, String).self)
        let script = NSTemporaryDirectory() + "tipwire-bench-\(UUID().uuidString).sql"
        try "\\set n random(1, 1000000000)\nINSERT INTO tipwire_bench.rows (n) VALUES (:n);\n".write(
            toFile: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: script) }

        print("bench postgres: single-row insert transactions, \(seconds) s each (synchronous_commit=\(settings.0), fsync=\(settings.1))")
        print("ours: each client task leases a connection for the run, as pgbench keeps one per client;")
        print("per-statement: every insert leases from the pool and returns (client.execute), for comparison.")
        print("\(rounds) rounds of \(seconds) s per figure, order alternating, table truncated before each run.")
        print("clients   pgbench tps      ours tps   ours÷pgbench          per-statement tps  ÷pgbench")
        var ratios: [Double] = []
        for count in clients {
            var totals: [String: Double] = [:]
            for round in 0..<rounds {
                let order = round % 2 == 0 ? ["pgbench", "ours", "per-statement"] : ["per-statement", "ours", "pgbench"]
                for name in order {
                    try await client.execute("TRUNCATE tipwire_bench.rows")
                    try await client.execute("CHECKPOINT")
                    switch name {
                    case "pgbench":
                        totals[name, default: 0] += try await pgbenchRate(url: url, script: script, clients: count, threads: count, seconds: seconds)
                    case "ours": totals[name, default: 0] += try await runOurs(client: client, clients: count, leasePerStatement: false)
                    default: totals[name, default: 0] += try await runOurs(client: client, clients: count, leasePerStatement: true)
                    }
                }
            }
            let pgbench = totals["pgbench", default: 0] / Double(rounds)
            let ours = totals["ours", default: 0] / Double(rounds)
            let perStatement = totals["per-statement", default: 0] / Double(rounds)
            ratios.append(ours / pgbench)
            print(
                String(format: "%7d", count) + "  " + formatRate(pgbench) + "    " + formatRate(ours) + "   "
                    + formatRatio(ours / pgbench, target: 0.9) + "   " + formatRate(perStatement)
                    + String(format: "    %5.2f×", perStatement / pgbench))
        }
        try await client.execute("DROP SCHEMA tipwire_bench CASCADE")
        if ratios.contains(where: { $0 < 0.9 }) { print("note: below target on at least one client count") }
    }

    private func runOurs(client: PostgresClient, clients: Int, leasePerStatement: Bool) async throws -> Double {
        // Open the connections first, as pgbench's figure excludes connection time.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    try await client.withConnection {
                        try await $0.query("SELECT 1"); try await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
            try await group.waitForAll()
        }
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    if leasePerStatement {
                        var count = 0
                        while ContinuousClock.now < deadline {
                            try await client.execute("INSERT INTO tipwire_bench.rows (n) VALUES (\(Int.random(in: 1...1_000_000_000)))")
                            count += 1
                        }
                        return count
                    }
                    return try await client.withConnection { connection in
                        var count = 0
                        while ContinuousClock.now < deadline {
                            try await connection.execute("INSERT INTO tipwire_bench.rows (n) VALUES (\(Int.random(in: 1...1_000_000_000)))")
                            count += 1
                        }
                        return count
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = started.duration(to: .now)
        return Double(total) / (elapsed / .seconds(1))
    }
}
