import Foundation
import Kafka
import Logging
import Metrics
import ServiceLifecycle
import TipwireCore
import TipwireStore

public struct OutboxRelayConfiguration: Sendable {
    public var producer: KafkaProducerConfiguration
    /// Rows claimed and produced per round.
    public var batchSize: Int
    /// Rounds whose deliveries may be being recorded while the next rounds are produced.
    public var recordingsInFlight: Int
    /// How often an idle relay looks anyway, should a NOTIFY be missed.
    public var idlePoll: Duration
    /// How often a standby relay tries to take over.
    public var standbyRetry: Duration
    /// The pause after a failed round before retrying.
    public var errorBackoff: Duration
    /// How long delivered events are kept whole, to be produced again should the cluster lose them.
    public var retention: Duration
    /// How often the relay checks that the cluster still holds what was delivered to it (it also checks
    /// whenever it starts relaying, after a start, a takeover or a failed round).
    public var clusterCheck: Duration

    /// Thirty days.
    public static let defaultRetention = Duration.seconds(30 * 86_400)

    public init(
        producer: KafkaProducerConfiguration, batchSize: Int = 5000, recordingsInFlight: Int = 3, idlePoll: Duration = .seconds(1),
        standbyRetry: Duration = .seconds(1),
        errorBackoff: Duration = .milliseconds(500), retention: Duration = defaultRetention, clusterCheck: Duration = .seconds(60)
    ) {
        self.producer = producer
        self.batchSize = batchSize
        self.recordingsInFlight = max(1, recordingsInFlight)
        self.idlePoll = idlePoll
        self.standbyRetry = standbyRetry
        self.errorBackoff = errorBackoff
        self.retention = retention
        self.clusterCheck = clusterCheck
    }
}

/// Moves outbox rows to Kafka (docs/architecture.md).
///
/// One relay is active at a time (a `SingleActiveWorker`): if its process dies the lock goes
/// with its session and a standby takes over within `standbyRetry`. It produces unsent rows in id order as CloudEvents in
/// binary mode with the idempotent producer, and marks them sent, together with each
/// task's `delivered` event, only after the delivery reports. A crash between the
/// report and the mark produces the rows again: delivery is at least once, and
/// consumers deduplicate by `ce_id`.
///
/// Delivered events are kept for `retention`. Before relaying, and every `clusterCheck`, the relay
/// compares the cluster with what it delivered: another cluster id, or a partition shorter than the last
/// offset delivered to it, means the cluster lost events (the embedded broker after a restart, a rebuilt
/// or failed-over cluster), and the relay produces the retained events again, in their order, before
/// anything new (docs/adr/0008-retained-events.md).
public final class OutboxRelay: Service, Sendable {
    let outbox: OutboxStore
    let configuration: OutboxRelayConfiguration
    let topics: TopicProvisioner
    let logger: Logger
    private let worker: SingleActiveWorker
    private let delivered = Counter(label: "tipwire_relay_events_delivered_total")
    private let failed = Counter(label: "tipwire_relay_events_failed_total")
    private let lag = Metrics.Timer(label: "tipwire_relay_commit_to_delivery_seconds")
    private let clusterLosses = Counter(label: "tipwire_relay_cluster_losses_total")
    private let republished = Counter(label: "tipwire_relay_events_republished_total")

    public init(
        stores: TipwireStores, configuration: OutboxRelayConfiguration, topics: TopicProvisioner, logger: Logger = Logger(label: "tipwire.relay")
    ) {
        self.outbox = stores.outbox
        self.configuration = configuration
        self.topics = topics
        self.logger = logger
        self.worker = SingleActiveWorker(
            name: "outbox relay", lock: .relay, database: stores.database, pauses: (configuration.standbyRetry, configuration.errorBackoff),
            logger: logger)
    }

    /// Runs as the pipeline (`DatabaseScope.system`): it reads every party's rows.
    public func run() async throws {
        try await DatabaseScope.system { try await self.relayUntilShutdown() }
    }

    private func relayUntilShutdown() async throws {
        try await cancelWhenGracefulShutdown {
            let producer = ProducerSlot(configuration: self.configuration.producer, logger: self.logger)
            await self.worker.run(
                recover: { error in
                    // Undelivered rows stay unsent; a fresh producer starts clean of any failed state.
                    if error is RelayRoundFailed { await producer.discard(timeout: .seconds(5)) }
                },
                { session in try await self.relay(on: session, producer: try producer.current()) })
            await producer.discard(timeout: .seconds(10))
        }
    }

    /// Relays until cancelled or an error, on the session that holds the relay lock.
    private func relay(on session: WorkerSession, producer: KafkaProducer) async throws {
        let wakeup = worker.wakeup
        // Pipelined: while earlier batches' deliveries are being recorded (each on a pooled
        // connection; they touch disjoint rows), the next batch is fetched, leaving out the rows
        // still being recorded, and produced. At most `recordingsInFlight` recordings run at once.
        var recordings: [(task: Task<Void, any Error>, ids: [Int64])] = []
        defer {
            // Recordings in flight finish even when stopping: each one saves duplicates later.
            for recording in recordings { Task { _ = await recording.task.result } }
        }
        /// Waits for every recording in flight, throwing the first failure.
        func finishRecordings() async throws {
            let finished = recordings
            recordings = []
            for recording in finished { try await recording.task.value }
        }
        try await keepClusterWhole(producer: producer)
        var nextCheck = ContinuousClock.now + configuration.clusterCheck
        while !Task.isCancelled {
            if ContinuousClock.now >= nextCheck {
                try await finishRecordings()
                try await keepClusterWhole(producer: producer)
                nextCheck = .now + configuration.clusterCheck
            }
            let fetchStarted = ContinuousClock.now
            let batch = try await session.pendingOutbox(limit: configuration.batchSize, excluding: recordings.flatMap(\.ids))
            let fetchTime = fetchStarted.duration(to: .now)
            if batch.isEmpty {
                if recordings.isEmpty {
                    await wakeup.wait(timeout: configuration.idlePoll)
                } else {
                    try await finishRecordings()
                }
                continue
            }
            let round = try await produce(batch, producer: producer)
            if recordings.count >= configuration.recordingsInFlight {
                let oldest = recordings.removeFirst()
                try await oldest.task.value
            }
            let recording = Task { [outbox, logger, delivered] in
                let started = ContinuousClock.now
                try await outbox.markSent(round.deliveries, at: round.producedAt)
                delivered.increment(by: round.deliveries.count)
                logger.debug(
                    "relay round",
                    metadata: [
                        "events": "\(batch.count)", "delivered": "\(round.deliveries.count)", "fetch_ms": "\(fetchTime / .milliseconds(1))",
                        "produce_ms": "\(round.produceTime / .milliseconds(1))", "record_ms": "\(started.duration(to: .now) / .milliseconds(1))",
                    ])
            }
            recordings.append((recording, batch.map(\.id)))
            if let error = round.error {
                try await finishRecordings()
                failed.increment(by: batch.count - round.deliveries.count)
                throw RelayRoundFailed(undelivered: batch.count - round.deliveries.count, error: error)
            }
        }
        try await finishRecordings()
    }

    /// Makes sure the cluster holds every retained event delivered to it, producing them again if not, then
    /// drops delivery records older than the retention window.
    private func keepClusterWhole(producer: KafkaProducer) async throws {
        let cluster = try await producer.clusterID()
        let recorded = try await outbox.recordedCluster()
        topics.forget()  // the cluster may lack the topics made earlier too: each is made again before use
        var lost: RetainedSelection?
        if let recorded, recorded != cluster {
            lost = .everything
            logger.warning(
                "the Kafka cluster is not the one events were delivered to: producing every retained event again",
                metadata: ["delivered_to": "\(recorded)", "cluster": "\(cluster)"])
        } else {
            let positions = try await outbox.deliveredPositions()
            // Asking a cluster for a partition of a topic it lacks may create the topic with the broker's own
            // partition count (the embedded broker does, and so does Kafka with topic auto-creation on), and
            // events replayed into it would land in other partitions than before: the topics are made first.
            try await topics.ensure(positions.map(\.topic))
            var short: Set<String> = []
            for position in positions where !short.contains(position.topic) {
                let high = try await producer.highWatermark(topic: position.topic, partition: position.partition)
                if high <= position.lastOffset { short.insert(position.topic) }
            }
            if !short.isEmpty {
                lost = RetainedSelection(topics: short.sorted())
                logger.warning(
                    "the Kafka cluster lacks events delivered to it: producing those topics' retained events again",
                    metadata: ["cluster": "\(cluster)", "topics": "\(short.sorted().joined(separator: ","))"])
            }
        }
        if let lost {
            clusterLosses.increment()
            let counts = try await outbox.retainedCounts(lost)
            let produced = try await EventReplay(outbox: outbox, topics: topics, batchSize: configuration.batchSize).replay(lost, producer: producer)
            {
                produced in
                self.logger.info("producing retained events again", metadata: ["produced": "\(produced)", "of": "\(counts.retained)"])
            }
            republished.increment(by: produced)
            logger.warning(
                "retained events produced again", metadata: ["events": "\(produced)", "sent_before_retention_began": "\(counts.notRetained)"])
        }
        // Recorded only once the cluster is whole: a relay that dies meanwhile finds the difference again.
        if recorded != cluster { try await outbox.recordCluster(cluster, at: Date()) }
        let forgotten = try await outbox.forgetDeliveries(sentBefore: Date().addingTimeInterval(-Double(configuration.retention.components.seconds)))
        if forgotten > 0 { logger.debug("delivery records past the retention window removed", metadata: ["records": "\(forgotten)"]) }
    }

    private struct Round: Sendable {
        var deliveries: [OutboxDelivery]
        var producedAt: Date
        var produceTime: Duration
        var error: KafkaError?
    }

    /// Produces a batch and waits for every delivery report.
    private func produce(_ batch: [OutboxMessage], producer: KafkaProducer) async throws -> Round {
        let started = ContinuousClock.now
        try await topics.ensure(batch.map(\.event.topic))
        // Stopping (SIGTERM) while the brokers are away fails the batch at once; its rows stay unsent.
        let reports = try await producer.sendStoppingOnCancel(batch.map { KafkaOutgoingMessage(event: $0.event) })
        let now = Date()
        var round = Round(deliveries: [], producedAt: now, produceTime: started.duration(to: .now))
        for (message, report) in zip(batch, reports) {
            switch report {
            case .success(let report):
                round.deliveries.append(OutboxDelivery(id: message.id, event: message.event, partition: report.partition, offset: report.offset))
                lag.recordNanoseconds(Int64(max(0, now.timeIntervalSince(message.event.time)) * 1e9))
            case .failure(let error):
                round.error = round.error ?? error
            }
        }
        return round
    }
}

struct RelayRoundFailed: Error, CustomStringConvertible {
    let undelivered: Int
    let error: KafkaError
    var description: String { "\(undelivered) events not delivered: \(error)" }
}

/// The relay's producer, made on first use and dropped after a failed round, so the next one starts clean.
private actor ProducerSlot {
    private let configuration: KafkaProducerConfiguration
    private let logger: Logger
    private var producer: KafkaProducer?

    init(configuration: KafkaProducerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    func current() throws -> KafkaProducer {
        if let producer { return producer }
        let made = try KafkaProducer(configuration: configuration, logger: logger)
        producer = made
        return made
    }

    func discard(timeout: Duration) async {
        let old = producer
        producer = nil
        await old?.shutdown(timeout: timeout)
    }
}
