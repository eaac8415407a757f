import ArgumentParser
import Foundation
import Hummingbird
import Kafka
import Logging
import Postgres
import Prometheus
import Synchronization
import TipwireAPI
import TipwireCommandLine
import TipwireCore
import TipwirePipeline
import TipwireStore

struct BenchIngest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "POST /v1/findings end to end vs pgbench running the equivalent SQL, and the relay's latency and drain rate.",
        discussion: """
            In one run, against the database in TIPWIRE_DATABASE_URL (use a durable cluster: deploy/local/up's),
            in a schema of its own (tipwire_bench_ingest, dropped first):
              0. a past: --history findings committed through the store, then the tables vacuumed and analyzed
                 (empty tables, and the plans made while they fill, would slow whichever side runs first).
              1. throughput: --clients HTTP connections from wrk post findings (land, cau-giay: 2 agencies) for
                 --seconds, and pgbench runs the same transaction as raw SQL with as many clients (idempotency check,
                 finding, 2 tasks, 2 events, 3 outbox rows, idempotency record); --rounds rounds, order
                 alternating. Target: ours ÷ pgbench ≥ 2.0× (concurrent requests share commits).
              2. latency at a fixed rate for --seconds: half of pgbench's rate in step 1 (or --rate), open
                 loop (measured from each request's scheduled time, so a stall is not hidden), with the relay
                 running, after the throughput runs' backlog is relayed and their tables vacuumed. Target
                 p99 < 50 ms.
              3. relay commit→delivery p50/p99 of those findings' events (outbox ce_time → delivery report).
                 Target p99 < 100 ms.
              4. backlog drain: --backlog findings committed with the relay stopped, then the relay started;
                 events/s until the outbox is empty, vs pgbench running the relay's own per-batch SQL (read
                 a batch, record its deliveries, start the tasks' clocks) over a backlog of the same size.
                 Target: relay ÷ pgbench ≥ 0.8× (the database work is the limit; Kafka and Swift may add a
                 fifth).
              5. overload: --overload-factor times step 1's throughput, open loop for --seconds, relay
                 running, requests shed after --shed-after-ms. Target: every
                 request answered 201 or 503 within the bound (+ the commit, for a 201), and every 201's
                 finding written once and its three events delivered; no 503 wrote anything.
            The API, relay and an embedded Kafka broker run in this process. Step 1's load comes from wrk, a C
            client in a process of its own as pgbench is; the open-loop load of steps 2 and 5 comes from one
            thread here, sending each request on time over as many connections as are waiting for answers.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var rollupOptions: RollupOptions

    @Option(help: "Seconds per throughput run and for the fixed-rate run.")
    var seconds: Int = 10

    @Option(help: "Throughput rounds; the figures are their means.")
    var rounds: Int = 2

    @Option(help: "Concurrent HTTP clients (and pgbench clients) for throughput.")
    var clients: Int = 32

    @Option(help: "Findings/s for the latency run (default: half of pgbench's rate in step 1).")
    var rate: Int?

    @Option(help: "Findings committed (and the tables analyzed) before the throughput runs, so they measure a database with a past.")
    var history = 20_000

    @Option(help: "Findings committed before the drain run (3 events each).")
    var backlog: Int = 20_000

    @Option(help: "Outbox rows the relay produces per round.")
    var relayBatch = 5000

    @Option(name: .customLong("producer-setting"), help: "A raw librdkafka setting for the relay's producer, KEY=VALUE (repeatable).")
    var producerSettings: [String] = []

    @Option(help: "The overload run offers this many times step 1's throughput.")
    var overloadFactor = 2.0

    @Option(help: "Milliseconds a request may wait for its turn or its database work before it answers 503 (the API's load shedding).")
    var shedAfterMs = Int(LoadShedding.default.bound / .milliseconds(1))

    @Option(help: "Requests the API works on at once (the API's load shedding).")
    var maxInFlight = LoadShedding.default.maxInFlight

    @Flag(help: "Log each relay round (events, fetch/produce/mark times) to standard error.")
    var verbose = false

    static let schema = "tipwire_bench_ingest"

    func run() async throws {
        // The log handler `tipwire serve` runs with, so the API's per-request logging costs what it costs there
        // (swift-log's default handler formats all metadata again each time a request adds some).
        LoggingOptions.bootstrap(level: .error, json: true)
        var quiet = Logger(label: "tipwire.bench")
        quiet.logLevel = .error
        var relayLogger = Logger(label: "tipwire.bench.relay")
        relayLogger.logLevel = verbose ? .debug : .error
        let bench = try await BenchSchema.create(Self.schema, url: try database.databaseURL(), maxConnections: 24, logger: quiet)
        try await bench.setRollupMarks(rollupOptions.on)
        let client = bench.client
        let settings = bench.durability
        let token = try await TokenStore(client: client).create(
            role: .liaison, scope: PartyCode(rawValue: "tuoitre"), holder: "tipwire bench", label: "bench"
        ).0

        let broker = try EmbeddedBroker(brokers: 1, logger: quiet)
        defer { broker.shutdown() }
        let port = try freeTCPPort()
        let stores = bench.stores(links: DocumentLinks(publicURL: "http://127.0.0.1:\(port)"), logger: quiet)
        let findings = stores.findings
        // No per-token rate limit: the bench measures the API's capacity with one liaison token.
        let dependencies = APIDependencies(
            stores: stores, rateLimit: nil, loadShedding: LoadShedding(bound: .milliseconds(shedAfterMs), maxInFlight: maxInFlight))
        let app = buildApplication(
            host: "127.0.0.1", port: port, dependencies: dependencies, checks: [], registry: PrometheusCollectorRegistry(),
            version: TipwireVersion.current,
            logger: quiet)
        let server = Task { try await app.run() }
        defer { server.cancel() }
        try await waitForServer(port: port)
        func makeRelay(clientID: String) -> OutboxRelay {
            OutboxRelay(
                stores: stores,
                configuration: OutboxRelayConfiguration(
                    producer: KafkaProducerConfiguration(bootstrapServers: broker.bootstrapServers, clientID: clientID, settings: rawSettings),
                    batchSize: relayBatch),
                topics: .embedded(broker, partitions: 3), logger: relayLogger)
        }
        let relay = makeRelay(clientID: "tipwire-bench-relay")

        print(
            "bench ingest: POST /v1/findings (land in cau-giay → 2 tasks, 3 events), synchronous_commit=\(settings.0), fsync=\(settings.1), rollup marks \(rollupOptions.rollups)"
        )
        print("")
        if history > 0 {
            // A fresh schema's empty tables, and the plans made while they fill, slow the first seconds of
            // whichever side runs first; a city's database holds a past.
            print("0. a past: \(history) findings committed, the tables vacuumed and analyzed")
            try await Self.submit(history, to: findings, keyPrefix: "history", workers: 64)
            try await settle(client)
            print("")
        }
        print("1. throughput at \(clients) clients, \(rounds) rounds × \(seconds) s, order alternating")
        let script = try writeIngestScript()
        defer { try? FileManager.default.removeItem(atPath: script) }
        let pgbenchURL = bench.pgbenchURL
        var ours: [Double] = []
        var reference: [Double] = []
        for round in 0..<rounds {
            for side in round % 2 == 0 ? ["pgbench", "ours"] : ["ours", "pgbench"] {
                try await client.execute("CHECKPOINT")
                if side == "pgbench" {
                    let tps = try await pgbenchRate(url: pgbenchURL, script: script, clients: clients, seconds: seconds)
                    reference.append(tps)
                    print("   round \(round + 1) pgbench   \(formatRate(tps)) transactions/s")
                } else {
                    let (rate, failures) = try await closedLoop(client: client, port: port, token: token, round: round)
                    ours.append(rate)
                    print("   round \(round + 1) tipwire   \(formatRate(rate)) findings/s" + (failures > 0 ? "  (\(failures) non-201 answers)" : ""))
                }
            }
        }
        let oursMean = ours.reduce(0, +) / Double(ours.count)
        let referenceMean = reference.reduce(0, +) / Double(reference.count)
        print(
            "   mean: tipwire \(formatRate(oursMean))/s, pgbench \(formatRate(referenceMean))/s → "
                + formatRatio(oursMean / referenceMean, target: 2.0))

        let rate = self.rate ?? max(1, Int((referenceMean / 2).rounded()))
        print("")
        print(
            "2. latency at a fixed \(rate) findings/s" + (self.rate == nil ? " (half of pgbench's rate)" : "")
                + " for \(seconds) s (open loop), relay running")
        let relayTask = Task { try await relay.run() }
        // Start from a steady state: the throughput runs' backlog relayed, their dead rows vacuumed.
        try await drain(client, timeout: .seconds(300))
        try await settle(client)
        let phaseStart = Date()
        let answers = try await openLoop(port: port, token: token, rate: rate, keyPrefix: "open")
        let latencies = answers.map(\.sinceScheduledMs)
        let failures = answers.filter { $0.status != 201 }.count
        let sorted = latencies.sorted()
        let achieved = Double(latencies.count) / Double(seconds)
        print(
            String(
                format: "   sent %d (%.0f/s), %d non-201; p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms  %@",
                latencies.count, achieved, failures, percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99),
                sorted.last ?? Double.nan,
                percentile(sorted, 99) < 50 ? "meets p99 < 50 ms" : "ABOVE target p99 < 50 ms"))

        try await drain(client, timeout: .seconds(120))
        let lag = try await client.query(
            """
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - ce_time)) * 1000,
                   percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM sent_at - ce_time)) * 1000, count(*)
            FROM outbox_deliveries WHERE ce_time >= \(phaseStart)
            """)[0].decode((Double, Double, Int).self)
        print("")
        print("3. relay commit→delivery report over those \(lag.2) events")
        print(String(format: "   p50 %.1f ms, p99 %.1f ms  %@", lag.0, lag.1, lag.1 < 100 ? "meets p99 < 100 ms" : "ABOVE target p99 < 100 ms"))

        relayTask.cancel()
        _ = await relayTask.result
        print("")
        print("4. backlog drain: \(backlog) findings committed with the relay stopped, the relay vs pgbench running its per-batch SQL")
        try await Self.submit(backlog, to: findings, keyPrefix: "drain-baseline", workers: 64)
        try await settle(client)
        let baselineEvents = try await unsent(client)
        let baselineRate = try await drainBaseline(client: client, url: bench.pgbenchURL, events: baselineEvents)
        print(
            String(
                format: "   pgbench: %d events in batches of %d → %@ events/s", baselineEvents, relayBatch,
                formatRate(baselineRate).trimmingCharacters(in: .whitespaces)))
        try await Self.submit(backlog, to: findings, keyPrefix: "drain", workers: 64)
        try await settle(client)
        let events = try await unsent(client)
        let drainRelay = makeRelay(clientID: "tipwire-bench-drain")
        let started = ContinuousClock.now
        let drainTask = Task { try await drainRelay.run() }
        try await drain(client, timeout: .seconds(300))
        let elapsed = started.duration(to: .now) / .seconds(1)
        drainTask.cancel()
        _ = await drainTask.result
        let drainRate = Double(events) / elapsed
        print(
            String(
                format: "   relay:   %d events in %.2f s → %@ events/s; relay ÷ pgbench %@", events, elapsed,
                formatRate(drainRate).trimmingCharacters(in: .whitespaces), formatRatio(drainRate / baselineRate, target: 0.8)))

        try await overloadRun(client: client, port: port, token: token, saturation: oursMean, relay: makeRelay(clientID: "tipwire-bench-overload"))

        server.cancel()
        try await bench.drop(Self.schema)
    }

    var rawSettings: [String: String] {
        EmbeddedBroker.producerSettings.merging(
            producerSettings.compactMap { pair in
                let parts = pair.split(separator: "=", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            }, uniquingKeysWith: { $1 })
    }

    /// Commits `count` land findings straight through the store (no HTTP), from `workers` concurrent tasks.
    static func submit(_ count: Int, to store: FindingStore, keyPrefix: String, workers: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    for index in stride(from: worker, to: count, by: workers) {
                        let key = "\(keyPrefix)-\(index)"
                        _ = try await store.submit(
                            FindingRequest(
                                newsroom: PartyCode(rawValue: "tuoitre")!, actor: "liaison:tuoitre", idempotencyKey: key,
                                requestSHA256: Array(key.utf8),
                                submission: submission(key)))
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    static func submission(_ key: String) -> FindingSubmission {
        FindingSubmission(
            articleURL: "https://tuoitre.vn/bench-\(key).htm", title: "Sai phạm đất đai ở Cầu Giấy (\(key))",
            publishedAt: Date(timeIntervalSinceNow: -3600),
            summary: String(repeating: "Khu đất công bị sử dụng sai mục đích. ", count: 8), category: "land",
            jurisdiction: PartyCode(rawValue: "cau-giay")!)
    }

    static func body(_ key: String) -> [UInt8] {
        Array(
            """
            {"article_url": "https://tuoitre.vn/bench-\(key).htm", "title": "Sai phạm đất đai ở Cầu Giấy (\(key))",
             "published_at": "2026-11-20T08:30:00+07:00", "summary": "\(String(repeating: "Khu đất công bị sử dụng sai mục đích. ", count: 8))",
             "category": "land", "jurisdiction": "cau-giay"}
            """.utf8)
    }

    /// `clients` connections posting back to back for `seconds`, from wrk (pgbench's counterpart: a C client in
    /// its own process). Checks that every 201 wrote its finding.
    private func closedLoop(client: PostgresClient, port: Int, token: BearerToken, round: Int) async throws -> (rate: Double, failures: Int) {
        let load = WrkLoad(
            method: "POST", path: "/v1/findings", headers: [("Authorization", "Bearer \(token.text)"), ("Content-Type", "application/json")],
            body: Self.body)
        let before = try await findingCount(client)
        let outcome = try await load.run(port: port, connections: clients, threads: min(clients, 4), seconds: seconds, keyPrefix: "closed-\(round)")
        let written = try await findingCount(client) - before
        guard written >= outcome.created else {
            throw ValidationError("wrk counted \(outcome.created) findings created, but only \(written) were written")
        }
        return (Double(outcome.created) / outcome.seconds, outcome.failed)
    }

    private func findingCount(_ client: PostgresClient) async throws -> Int {
        try await client.query("SELECT count(*) FROM findings")[0].decode(column: 0, as: Int.self)
    }

    /// One request's answer in an open-loop run.
    struct Answer {
        var status: Int
        /// From the request's scheduled time (so a stall of the load itself is not hidden).
        var sinceScheduledMs: Double
        /// From the moment it was sent.
        var serviceMs: Double
    }

    /// `rate` findings/s for `seconds`, each request sent at its scheduled time (`OpenLoopLoad`).
    func openLoop(port: Int, token: BearerToken, rate: Int, keyPrefix: String) async throws -> [Answer] {
        let load = OpenLoopLoad(port: port)
        let headers = [("Authorization", "Bearer \(token.text)"), ("Content-Type", "application/json")]
        let (total, interval, start) = (rate * seconds, 1.0 / Double(rate), Date().addingTimeInterval(0.2))
        return try await runOnThread {
            try load.run(count: total, interval: interval, start: start) { index in
                let key = "\(keyPrefix)-\(index)"
                return BlockingHTTPConnection.request(
                    method: "POST", path: "/v1/findings", headers: headers + [("Idempotency-Key", key)], body: Self.body(key))
            }
        }
    }

    /// The transaction `POST /v1/findings` commits for one finding, as plain SQL. Colons in literals are
    /// spelled chr(58): pgbench would take `'findings:tuoitre'` for a variable reference.
    private func writeIngestScript() throws -> String {
        let payload = "repeat('x', 1400)"
        let text = """
            BEGIN;
            SELECT gen_random_uuid() AS f, gen_random_uuid() AS t1, gen_random_uuid() AS t2 \\gset
            SELECT status FROM idempotency_keys WHERE scope = 'findings' || chr(58) || 'tuoitre' AND key = CAST(:f AS text);
            INSERT INTO findings (id, newsroom_code, article_url, title, published_at, summary, category_code, jurisdiction_code, created_at)
                VALUES (CAST(:f AS uuid), 'tuoitre', 'https://tuoitre.vn/bench.htm', 'Sai phạm đất đai ở Cầu Giấy', now() - interval '1 hour', repeat('Khu đất công bị sử dụng sai mục đích. ', 8), 'land', 'cau-giay', now());
            INSERT INTO tasks (id, finding_id, agency_code, state, routed_by, assigned_at, deliver_by, updated_at)
                VALUES (CAST(:t1 AS uuid), CAST(:f AS uuid), 'so-nnmt', 'assigned', 'rule', now(), now() + interval '1 hour', now()),
                       (CAST(:t2 AS uuid), CAST(:f AS uuid), 'ubnd-cau-giay', 'assigned', 'rule', now(), now() + interval '1 hour', now());
            INSERT INTO task_events (task_id, kind, actor, at, detail)
                VALUES (CAST(:t1 AS uuid), 'assigned', 'liaison' || chr(58) || 'tuoitre', now(), '{"routed_by":"rule"}'), (CAST(:t2 AS uuid), 'assigned', 'liaison' || chr(58) || 'tuoitre', now(), '{"routed_by":"rule"}');
            INSERT INTO outbox (ce_id, ce_type, ce_subject, ce_time, topic, message_key, payload, delivers_task_id)
                VALUES (gen_random_uuid(), 'vn.tipwire.task.assigned.v1', 'tasks/' || CAST(:t1 AS text), now(), 'tipwire.tasks.so-nnmt', CAST(:f AS text), \(payload), CAST(:t1 AS uuid)),
                       (gen_random_uuid(), 'vn.tipwire.task.assigned.v1', 'tasks/' || CAST(:t2 AS text), now(), 'tipwire.tasks.ubnd-cau-giay', CAST(:f AS text), \(payload), CAST(:t2 AS uuid)),
                       (gen_random_uuid(), 'vn.tipwire.finding.received.v1', 'findings/' || CAST(:f AS text), now(), 'tipwire.findings', CAST(:f AS text), \(payload), NULL);
            INSERT INTO idempotency_keys (scope, key, request_sha256, status, response)
                VALUES ('findings' || chr(58) || 'tuoitre', CAST(:f AS text), '\\x00', 201, \(payload));
            SELECT pg_notify('tipwire_outbox', '');
            COMMIT;

            """
        let path = NSTemporaryDirectory() + "tipwire-bench-ingest-\(UUID().uuidString).sql"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Step 4's baseline: pgbench runs, batch after batch on one connection, the SQL the relay runs per
    /// batch (the clock rules, the batch read, the delivery record with every row at Kafka partition 0),
    /// until the outbox is empty. Events/s over pgbench's own time (connection excluded).
    private func drainBaseline(client: PostgresClient, url: String, events: Int) async throws -> Double {
        let now = Date()
        let clocks = try await client.withConnection { try await OutboxStore.acknowledgeClocks(deliveredAt: now, on: $0) }
        let positions: PostgresQuery = "SELECT id, 0 AS kafka_partition, id AS kafka_offset FROM outbox ORDER BY id LIMIT \(relayBatch)"
        let statements =
            OutboxStore.clockRulesStatements + [OutboxStore.pendingStatement(limit: relayBatch)]
            + OutboxStore.recordStatements(positions: positions, clocks: clocks, at: now)
        let script = try await writePgbenchScript(statements, client: client, name: "drain")
        defer { try? FileManager.default.removeItem(atPath: script) }
        let first = try await client.query("SELECT min(id) FROM outbox")[0].decode(column: 0, as: Int64.self)
        let batches = (events + relayBatch - 1) / relayBatch
        let milliseconds = try await pgbenchLatency(url: url, script: script, transactions: batches)
        let left = try await unsent(client)
        guard left == 0 else { throw ValidationError("pgbench's drain left \(left) outbox rows") }
        // Those events never reached Kafka: left recorded at made-up offsets, they would have the relay find
        // its partitions short and produce every retained event again during the drain it measures.
        try await client.execute("DELETE FROM outbox_deliveries WHERE outbox_id >= \(first)")
        return Double(events) / (milliseconds * Double(batches) / 1000)
    }

    private func unsent(_ client: PostgresClient) async throws -> Int {
        try await client.query("SELECT count(*) FROM outbox")[0].decode(column: 0, as: Int.self)
    }

    func drain(_ client: PostgresClient, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while try await unsent(client) > 0 {
            guard ContinuousClock.now < deadline else { throw ValidationError("the relay did not empty the outbox within \(timeout)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Vacuums what the previous phase churned and checkpoints, so a phase does not pay for the last one.
    func settle(_ client: PostgresClient) async throws {
        for table in ["outbox", "outbox_deliveries", "tasks", "task_events", "findings", "idempotency_keys"] {
            try await client.execute("VACUUM (ANALYZE) \(identifier: table)")
        }
        try await client.execute("CHECKPOINT")
    }

}

/// A TCP port nothing listens on right now.
func freeTCPPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw ValidationError("cannot find a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
