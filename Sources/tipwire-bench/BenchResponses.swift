import ArgumentParser
import Foundation
import Kafka
import Logging
import Postgres
import TipwireCommandLine
import TipwireCore
import TipwirePipeline
import TipwireStore

struct BenchResponses: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "responses",
        abstract: "Agencies' Kafka responses applied durably per second vs pgbench running the same SQL one response per transaction.",
        discussion: """
            Against the database in TIPWIRE_DATABASE_URL (use a durable cluster: deploy/local/up's), in a schema of its
            own (tipwire_bench_responses, dropped first): --findings land findings (2 tasks each) are committed, then
            an acknowledge and a start per task are produced to the embedded broker, and one response consumer
            applies them (the responses of one poll share a transaction). The rate counts from the first response
            applied to the last, so the consumer group's join is left out.
            The baseline is pgbench running what one response costs as SQL (the checks, the locked task, its
            update, the event, the ce_id record) one response per transaction, with 1 client (a consumer applies
            a partition in order) and with 8. Targets: ≥ 5,000 responses/s and ≥ 1.0× the 1-client baseline.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var rollupOptions: RollupOptions

    @Option(help: "Findings to create (2 tasks each; 2 responses per task).")
    var findings: Int = 5000

    @Option(help: "Seconds per pgbench run.")
    var seconds: Int = 10

    @Option(help: "Responses per consumer transaction, at most.")
    var batch: Int = 500

    static let schema = "tipwire_bench_responses"

    func run() async throws {
        var quiet = Logger(label: "tipwire.bench")
        quiet.logLevel = .error
        let bench = try await BenchSchema.create(Self.schema, url: try database.databaseURL(), maxConnections: 16, logger: quiet)
        try await bench.setRollupMarks(rollupOptions.on)
        let client = bench.client
        let settings = bench.durability
        let stores = bench.stores(links: DocumentLinks(publicURL: "http://127.0.0.1"), logger: quiet)
        let store = stores.findings

        print(
            "bench responses: acknowledge + start for every task, synchronous_commit=\(settings.0), fsync=\(settings.1), rollup marks \(rollupOptions.rollups)"
        )
        print("creating \(findings) findings (\(findings * 2) tasks)…")
        try await BenchIngest.submit(findings, to: store, keyPrefix: "bench", workers: 32)
        let taskRows = try await client.query("SELECT id, agency_code FROM tasks ORDER BY id").decode((UUID, String).self)
        let total = taskRows.count * 2

        let broker = try EmbeddedBroker(brokers: 1, logger: quiet)
        defer { broker.shutdown() }
        for agency in Set(taskRows.map(\.1)).compactMap(PartyCode.init(rawValue:)) {
            try broker.createTopic(TopicName.responses(agency), partitions: 3)
            try broker.createTopic(TopicName.responseDeadLetters(agency), partitions: 1)
        }
        print("producing \(total) responses…")
        var messages: [KafkaOutgoingMessage] = []
        messages.reserveCapacity(total)
        for action in ["acknowledge", "start"] {
            for (task, agency) in taskRows {
                messages.append(
                    KafkaOutgoingMessage(
                        topic: "tipwire.responses.\(agency)", key: Array(task.lowercased.utf8),
                        data: Array(#"{"task_id": "\#(task.lowercased)"}"#.utf8),
                        attributes: CloudEventAttributes(
                            id: UUID().uuidString.lowercased(), source: "/agencies/\(agency)", type: "vn.tipwire.response.\(action).v1")))
            }
        }
        let producer = try KafkaProducer(
            configuration: KafkaProducerConfiguration(bootstrapServers: broker.bootstrapServers, clientID: "bench-agencies"), logger: quiet)
        _ = try await producer.send(messages)
        await producer.shutdown()

        let consumer = ResponseConsumer(
            stores: stores,
            configuration: ResponseConsumerConfiguration(
                consumer: KafkaConsumerConfiguration(bootstrapServers: broker.bootstrapServers, groupID: "tipwire-responses"),
                producer: KafkaProducerConfiguration(
                    bootstrapServers: broker.bootstrapServers, clientID: "bench-dead-letters", settings: EmbeddedBroker.producerSettings),
                batchSize: batch),
            topics: .existing, logger: quiet)
        let running = Task { try await consumer.run() }
        defer { running.cancel() }
        func applied() async throws -> Int {
            try await client.query("SELECT count(*) FROM applied_responses")[0].decode(column: 0, as: Int.self)
        }
        var first: (count: Int, at: ContinuousClock.Instant)?
        let deadline = ContinuousClock.now + .seconds(600)
        var count = 0
        while count < total {
            guard ContinuousClock.now < deadline else { throw ValidationError("only \(count) of \(total) responses applied within 10 minutes") }
            try await Task.sleep(for: .milliseconds(20))
            count = try await applied()
            if first == nil, count > 0 { first = (count, .now) }
        }
        let finished = ContinuousClock.now
        running.cancel()
        guard let first else { throw ValidationError("no response was applied") }
        let elapsed = first.at.duration(to: finished)
        let rate = Double(total - first.count) / (elapsed / .seconds(1))
        let events = try await client.query("SELECT count(*) FROM task_events WHERE kind IN ('acknowledged', 'started')")[0].decode(
            column: 0, as: Int.self)

        // The baseline after: the same SQL on the same tables (task_events is append-only, so it runs last).
        try await client.execute("CREATE TABLE bench_tasks AS SELECT row_number() OVER (ORDER BY id) AS n, id, agency_code FROM tasks")
        try await client.execute("ALTER TABLE bench_tasks ADD PRIMARY KEY (n)")
        try await client.execute("CHECKPOINT")
        let script = try writeScript(count: taskRows.count)
        defer { try? FileManager.default.removeItem(atPath: script) }
        let one = try await pgbenchRate(url: bench.pgbenchURL, script: script, clients: 1, seconds: seconds)
        try await client.execute("CHECKPOINT")
        let eight = try await pgbenchRate(url: bench.pgbenchURL, script: script, clients: 8, seconds: seconds)

        print("")
        print("pgbench, one response per transaction:  1 client \(formatRate(one))/s   8 clients \(formatRate(eight))/s")
        print("tipwire response consumer (batches ≤ \(batch)): \(formatRate(rate))/s  (\(total) responses, \(events) events)")
        print("   vs ≥ 5,000/s target: " + (rate >= 5000 ? "meets" : "BELOW"))
        print("   ÷ pgbench 1 client:  " + formatRatio(rate / one, target: 1.0))
        print("   ÷ pgbench 8 clients: " + String(format: "%5.2f×", rate / eight))
        try await bench.drop(Self.schema)
    }

    /// What applying one acknowledge costs as SQL, as the consumer issues it for one response.
    private func writeScript(count: Int) throws -> String {
        let text = """
            \\set n random(1, \(count))
            BEGIN;
            SELECT id AS t, agency_code AS a, gen_random_uuid()::text AS c FROM bench_tasks WHERE n = :n \\gset
            SELECT (SELECT agency_code FROM tasks WHERE id = CAST(:t AS uuid)), EXISTS (SELECT 1 FROM applied_responses WHERE agency_code = :a AND ce_id = :c);
            SELECT t.state, t.agency_code, f.newsroom_code, t.extensions, t.finding_id FROM tasks t JOIN findings f ON f.id = t.finding_id WHERE t.id = CAST(:t AS uuid) FOR UPDATE OF t;
            UPDATE tasks SET state = 'acknowledged', extensions = 0, outcome = NULL, updated_at = now() WHERE id = CAST(:t AS uuid);
            INSERT INTO task_events (task_id, kind, actor, at, detail) VALUES (CAST(:t AS uuid), 'acknowledged', 'bench', now(), '{}');
            INSERT INTO applied_responses (agency_code, ce_id, ce_type, task_id, kafka_topic, kafka_partition, kafka_offset)
                VALUES (:a, :c, 'vn.tipwire.response.acknowledge.v1', CAST(:t AS uuid), 'tipwire.responses.bench', 0, 0);
            COMMIT;

            """
        let path = NSTemporaryDirectory() + "tipwire-bench-responses-\(UUID().uuidString).sql"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
