import ArgumentParser
import Foundation
import Kafka
import Logging
import TipwireCommandLine
import TipwireCore
import TipwirePipeline
import TipwireStore

struct Relay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run only the outbox relay: moves committed events from PostgreSQL to Kafka.",
        discussion: """
            One relay is active at a time (a PostgreSQL advisory lock); start more for standby, and one takes \
            over within a second if the active one dies. `tipwire serve` and `tipwire dev` run one too unless \
            given --no-relay. Stops gracefully on SIGTERM or SIGINT.

            Delivered events are kept whole for --retention-days. When the relay finds a Kafka cluster other \
            than the one it delivered to, or a partition shorter than what it delivered there, it produces \
            the retained events again, in their order, before anything new; `tipwire relay replay` does the \
            same by hand.
            """,
        subcommands: [Replay.self])

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var relay: RelayOptions
    @OptionGroup var topics: TopicOptions
    @OptionGroup var logging: LoggingOptions

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var listener: OperationsListenerOptions

    func run() async throws {
        try logging.bootstrap()
        let registry = bootstrapMetrics()
        let endpoint = try kafka.endpoint()
        let stores = try database.stores(poolSize: 2, links: .idsOnly)  // it serves no document links
        try await runAlone(
            try PipelineKafka(endpoint: endpoint, embedded: nil, topics: topics).relay(relay, stores: stores), stores: stores, kafka: endpoint,
            listener: listener, registry: registry)
    }
}

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Produce delivered events again, in the order they were first produced (disaster recovery).",
        discussion: """
            For a Kafka cluster restored from a backup, or a topic an operator emptied: every event the relay \
            delivered since --since (and still retains, see `tipwire relay --retention-days`) is produced \
            again, to its topic, with its key and CloudEvents headers. Consumers deduplicate by ce_id, so \
            events that are still there do no harm. A running relay goes on meanwhile.

            Examples:
              tipwire relay replay --since 2026-11-01
              tipwire relay replay --since 2026-11-20T08:00:00Z --topic tipwire.findings
            """)

    @Option(
        help: ArgumentHelp(
            "Produce the events delivered at or after this time: an ISO 8601 instant, or a date (YYYY-MM-DD, from midnight in Hanoi).",
            valueName: "time"))
    var since: String

    @Option(help: ArgumentHelp("Only the events of this topic (repeat for more; default every topic).", valueName: "topic"))
    var topic: [String] = []

    @Option(help: "Events produced per round.")
    var batch = 5000

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var topics: TopicOptions
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var kafka: KafkaOptions

    func validate() throws {
        _ = try instant()
        try checkRange(batch, 1...100_000, "--batch")
        for name in topic where !TopicName.isValid(name) {
            throw ValidationError("--topic \(name): not a Kafka topic name (letters, digits, '.', '_' and '-', at most 249)")
        }
    }

    /// `--since` as an instant; a bare date is midnight in Hanoi.
    func instant() throws -> Date {
        if let day = CalendarDay(since) { return day.start }
        let formatter = ISO8601DateFormatter()
        if let instant = formatter.date(from: since) { return instant }
        formatter.formatOptions.insert(.withFractionalSeconds)
        if let instant = formatter.date(from: since) { return instant }
        throw ValidationError("--since \(since): must be a date (YYYY-MM-DD) or an ISO 8601 instant such as 2026-11-20T08:00:00Z")
    }

    func run() async throws {
        try logging.bootstrap()
        let endpoint = try kafka.endpoint()
        let selection = RetainedSelection(since: try instant(), topics: topic.isEmpty ? nil : topic)
        let pipeline = PipelineKafka(endpoint: endpoint, embedded: nil, topics: topics)
        let provisioner = try topics.provisioner(kafka: endpoint, embedded: nil)
        let producer = try KafkaProducer(configuration: pipeline.producer(clientID: "tipwire-replay"), logger: Logger(label: "tipwire.replay"))
        let (produced, counts) = try await database.withStores { stores in
            try await DatabaseScope.system {
                let counts = try await stores.outbox.retainedCounts(selection)
                FileHandle.standardError.write(Data("producing \(counts.retained) retained events again\n".utf8))
                let replay = EventReplay(outbox: stores.outbox, topics: provisioner, batchSize: batch)
                let produced = try await replay.replay(selection, producer: producer) { produced in
                    FileHandle.standardError.write(Data("produced \(produced) of \(counts.retained)\n".utf8))
                }
                return (produced, counts)
            }
        }
        await producer.shutdown(timeout: .seconds(30))
        print("produced \(produced) events again" + (counts.notRetained > 0 ? "; \(counts.notRetained) were sent before events were retained" : ""))
    }
}
