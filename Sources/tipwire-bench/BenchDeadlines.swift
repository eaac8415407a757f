import ArgumentParser
import Foundation
import Kafka
import Logging
import Postgres
import TipwireCommandLine
import TipwireCore
import TipwirePipeline
import TipwireStore

struct BenchDeadlines: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadlines",
        abstract: "One deadline-engine pass over a million open tasks vs pgbench running the same pass as one SQL statement; due-to-delivery lag.",
        discussion: """
            Against the database in TIPWIRE_DATABASE_URL (use a durable cluster: deploy/local/up's), in a schema of its
            own (tipwire_bench_deadlines, dropped first unless --keep-schema):
              1. --tasks open tasks with running acknowledge clocks are written set-wise; three sets of --due of
                 them have their reminder due about now, the rest weeks later.
              2. one engine pass (the engine's own code: claim with FOR UPDATE SKIP LOCKED in batches of
                 --batch, raise each rung with its record and outbox row, move the clock to its next rung)
                 over the first set, right after a CHECKPOINT, the worst case: every page written then pays a
                 full-page image in the WAL. Target < 500 ms.
                 Baseline: pgbench runs the same pass over the second set as one set-wise SQL statement in one
                 transaction (claim, record, outbox row with its JSON built by PostgreSQL, move), once, also
                 right after a CHECKPOINT; ours ÷ pgbench is printed.
                 Then a second pass of ours over the third set, with no checkpoint between: what most passes cost.
              3. lag: the engine (system clock), the outbox relay and an embedded Kafka broker run here while
                 --lag-rungs reminders fall due evenly over --lag-seconds; a consumer group reads them as an
                 agency would. Lag is the time from each rung's due instant to its arrival at the consumer.
                 Target p99 ≤ 5 s.
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Open tasks (each with a running acknowledge clock).")
    var tasks: Int = 1_000_000

    @Option(help: "Clocks due for the timed pass.")
    var due: Int = 10_000

    @Option(help: "Clocks the engine claims per transaction.")
    var batch: Int = 2000

    @Option(help: "Reminders falling due during the lag run.")
    var lagRungs: Int = 10_000

    @Option(help: "Seconds over which the lag run's reminders fall due.")
    var lagSeconds: Int = 10

    @Flag(help: "Keep the schema afterwards, to look into it with psql (search_path=tipwire_bench_deadlines).")
    var keepSchema = false

    static let schema = "tipwire_bench_deadlines"

    func run() async throws {
        var quiet = Logger(label: "tipwire.bench")
        quiet.logLevel = .error
        let bench = try await BenchSchema.create(Self.schema, url: try database.databaseURL(), maxConnections: 8, logger: quiet)
        let client = bench.client
        print("bench deadlines: synchronous_commit=\(bench.durability.synchronousCommit), fsync=\(bench.durability.fsync)")

        // 1. The open tasks: `due` due for our pass (in the last second), `due` more for pgbench's (the second before), `due` more for
        // a second pass of ours a little later, the rest weeks away.
        let now = Date()
        let loadStarted = ContinuousClock.now
        let rest = max(0, tasks - 3 * due)
        let report: (Int) -> Void = { print("  \($0) …") }
        print("writing \(tasks) open tasks with their clocks …")
        try await SyntheticLoad.clocks(count: due, due: due, start: now.addingTimeInterval(-1), window: 0.9, on: client)
        try await SyntheticLoad.clocks(count: due, due: due, start: now.addingTimeInterval(-2), window: 0.9, on: client)
        try await SyntheticLoad.clocks(count: due, due: due, start: now.addingTimeInterval(0.1), window: 0.8, on: client)
        try await SyntheticLoad.clocks(count: rest, due: 0, start: now, window: 0, on: client, progress: report)
        try await client.execute("VACUUM ANALYZE")
        try await client.execute("CHECKPOINT")
        let open = try await client.query("SELECT count(*) FROM deadline_timers WHERE next_at IS NOT NULL")[0].decode(column: 0, as: Int.self)
        print(String(format: "  %d running clocks written in %.0f s", open, loadStarted.duration(to: .now) / .seconds(1)))

        // 2. pgbench first, on the earlier set (its clocks are due before ours, so it claims exactly those).
        let script = try writeScript(before: now.addingTimeInterval(-1.05))
        defer { try? FileManager.default.removeItem(atPath: script) }
        let baseline = try await pgbenchLatency(url: bench.pgbenchURL, script: script)
        let baselineRaised = try await client.query("SELECT count(*) FROM deadline_rungs")[0].decode(column: 0, as: Int.self)
        guard baselineRaised == due else { throw ValidationError("the baseline raised \(baselineRaised) rungs, not \(due)") }
        try await client.execute("CHECKPOINT")

        let connection = try await PostgresConnection.connect(client.configuration.connection, logger: quiet)
        defer { connection.close() }
        /// One engine pass at `time`, as the engine runs it; its duration in milliseconds.
        func pass(at time: Date) async throws -> Double {
            let started = ContinuousClock.now
            let (claimed, raised) = try await withTaskExecutorPreference(connection.taskExecutor) {
                let calendar = try await DeadlineStore.calendar(on: connection)
                var claimed = 0
                var raised = 0
                while true {
                    let round = try await DeadlineStore.raiseDue(at: time, limit: batch, engine: "bench", calendar: calendar, on: connection)
                    claimed += round.claimed
                    raised += round.raised
                    if round.claimed == 0 { break }
                }
                return (claimed, raised)
            }
            guard raised == due, claimed == due else { throw ValidationError("the pass raised \(raised) rungs of \(claimed) clocks, not \(due)") }
            return started.duration(to: .now) / .milliseconds(1)
        }
        // Right after a checkpoint, as pgbench's run was: every page written pays a full-page image in the WAL.
        let afterCheckpoint = try await pass(at: now)
        // The next set, a second later: what most passes between checkpoints cost.
        let steady = try await pass(at: now.addingTimeInterval(1))

        // 3. Lag, with the engine, relay and broker running; the earlier phases' events are not wanted.
        try await client.execute("DELETE FROM outbox")
        let lag = try await measureLag(client: client, logger: quiet)

        print("")
        print(
            String(
                format: "engine pass over %d due of %d open clocks (batches of %d), right after a checkpoint: %8.1f ms   target < 500 ms: %@", due,
                open, batch, afterCheckpoint, afterCheckpoint < 500 ? "meets" : "BELOW"))
        print(String(format: "pgbench, the same pass as one SQL statement, right after a checkpoint:                 %8.1f ms", baseline))
        print("   ours ÷ pgbench: " + String(format: "%5.2f× the time", afterCheckpoint / baseline))
        print(
            String(
                format: "the next pass over %d more, a second later (no checkpoint between):                    %8.1f ms   target < 500 ms: %@", due,
                steady, steady < 500 ? "meets" : "BELOW"))
        print(
            String(
                format: "due → delivered to a consumer, %d reminders over %d s: p50 %.0f ms  p99 %.0f ms  max %.0f ms   target p99 ≤ 5 s: %@",
                lag.count,
                lagSeconds, lag.p50 * 1000, lag.p99 * 1000, lag.max * 1000, lag.p99 <= 5 ? "meets" : "BELOW"))
        if keepSchema {
            client.close()
            bench.admin.close()
        } else {
            try await bench.drop(Self.schema)
        }
    }

    /// Runs the engine, the relay and a consumer while `lagRungs` reminders fall due; returns lag percentiles in seconds.
    private func measureLag(client: PostgresClient, logger: Logger) async throws -> (count: Int, p50: Double, p99: Double, max: Double) {
        let broker = try EmbeddedBroker(brokers: 1, logger: logger)
        defer { broker.shutdown() }
        let agencies = ["so-nnmt", "so-xay-dung", "ubnd-cau-giay", "ubnd-dong-da"]
        let topics = agencies.map { "tipwire.tasks.\($0)" }
        for topic in topics { try broker.createTopic(topic, partitions: 3) }
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(bootstrapServers: broker.bootstrapServers, groupID: "bench-agency", clientID: "bench-agency"),
            logger: logger)
        try consumer.subscribe(topics: topics)
        let stores = TipwireStores(database: TipwireDatabase(client: client), links: .idsOnly, findingsLogger: logger)
        let relay = OutboxRelay(
            stores: stores,
            configuration: OutboxRelayConfiguration(
                producer: KafkaProducerConfiguration(
                    bootstrapServers: broker.bootstrapServers, clientID: "bench-relay", settings: EmbeddedBroker.producerSettings)),
            topics: .existing, logger: logger)
        let engine = DeadlineEngine(stores: stores, configuration: DeadlineEngineConfiguration(batchSize: batch, instance: "bench"), logger: logger)
        let services = [Task { try await relay.run() }, Task { try await engine.run() }]
        defer { for service in services { service.cancel() } }

        let expected = lagRungs
        // Far enough ahead for the clocks to be written and the consumer to have joined its group.
        let start = Date().addingTimeInterval(8)
        let receiving = Task { () throws -> [Double] in
            var lags: [Double] = []
            let decoder = TipwireJSON.decoder()
            for try await message in consumer.messages {
                let arrived = Date()
                guard message.header("ce_type")?.stringValue == EventType.taskReminder,
                    let data = try? decoder.decode(DeadlineEventData.self, from: Data(message.value)), data.rungAt >= start.addingTimeInterval(-0.5)
                else { continue }
                lags.append(arrived.timeIntervalSince(data.rungAt))
                if lags.count >= expected { break }
            }
            return lags
        }
        // Let the consumer join its group before anything falls due.
        let joinDeadline = ContinuousClock.now + .seconds(30)
        while consumer.assignment.isEmpty, ContinuousClock.now < joinDeadline { try await Task.sleep(for: .milliseconds(100)) }
        print("lag run: \(lagRungs) reminders falling due over \(lagSeconds) s …")
        try await SyntheticLoad.clocks(count: lagRungs, due: lagRungs, start: start, window: Double(lagSeconds), agencies: agencies, on: client)
        let timeout = Task {
            try await Task.sleep(for: .seconds(lagSeconds + 120))
            receiving.cancel()
        }
        defer { timeout.cancel() }
        let lags = try await receiving.value.sorted()
        await consumer.close()
        guard lags.count == expected else { throw ValidationError("only \(lags.count) of \(expected) reminders arrived") }
        func percentile(_ p: Double) -> Double { lags[min(lags.count - 1, Int((Double(lags.count) * p).rounded(.up)) - 1)] }
        return (lags.count, percentile(0.5), percentile(0.99), lags.last ?? 0)
    }

    /// The pass as one statement: claim the due clocks, record each rung, write its outbox row with the
    /// event JSON built by PostgreSQL, move the clock to its next rung.
    private func writeScript(before: Date) throws -> String {
        let cutoff = formatTimestamp(before)
        let text = """
            BEGIN;
            WITH due AS (
                SELECT d.id, d.task_id, d.stage, d.holder_code, d.started_at, d.due_at, x.next_rung, x.next_at, d.agency_code, d.finding_id,
                       d.newsroom_code, d.category_code
                FROM (SELECT * FROM deadline_timers WHERE next_at <= '\(cutoff)' ORDER BY next_at LIMIT \(due) FOR UPDATE SKIP LOCKED) x
                JOIN deadlines d ON d.id = x.deadline_id
            ), rungs AS (
                -- Time-ordered ids (UUID version 7), as the engine makes them.
                INSERT INTO deadline_rungs (id, deadline_id, rung, kind, audience, rung_at, raised_at, raised_by)
                SELECT (lpad(to_hex(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0') || '7' || substr(md5(random()::text), 1, 3)
                        || '8' || substr(md5(random()::text), 1, 15))::uuid,
                       id, next_rung, 'reminder', 'holder', next_at, now(), 'pgbench'
                FROM due RETURNING id, deadline_id
            ), events AS (
                INSERT INTO outbox (ce_id, ce_type, ce_subject, ce_time, topic, message_key, payload)
                SELECT gen_random_uuid(), 'vn.tipwire.task.reminder.v1', 'tasks/' || due.task_id, now(), 'tipwire.tasks.' || due.holder_code,
                       due.finding_id::text,
                       jsonb_build_object('escalation_id', r.id, 'stage', due.stage, 'holder', jsonb_build_object('kind', 'agency', 'code', due.holder_code),
                           'task', jsonb_build_object('id', due.task_id, 'agency', due.agency_code),
                           'finding', jsonb_build_object('id', due.finding_id, 'newsroom', due.newsroom_code, 'category', due.category_code),
                           'request_id', NULL, 'rung', due.next_rung, 'kind', 'reminder', 'audience', 'holder', 'started_at', due.started_at,
                           'due_at', due.due_at, 'rung_at', due.next_at, 'raised_at', now(), 'remaining_working_days', 0, 'overdue_by_working_days', 0)::text
                FROM due JOIN rungs r ON r.deadline_id = due.id
            )
            UPDATE deadline_timers x SET next_rung = due.next_rung + 1, next_at = due.due_at FROM due WHERE x.deadline_id = due.id;
            COMMIT;

            """
        let path = NSTemporaryDirectory() + "tipwire-bench-deadlines-\(UUID().uuidString).sql"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

}
