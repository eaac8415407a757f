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

    public init(
        producer: KafkaProducerConfiguration, batchSize: Int = 5000, recordingsInFlight: Int = 3, idlePoll: Duration = .seconds(1),
        standbyRetry: Duration = .seconds(1),
        errorBackoff: Duration = .milliseconds(500)
    ) {
        self.producer = producer
        self.batchSize = batchSize
        self.recordingsInFlight = max(1, recordingsInFlight)
        self.idlePoll = idlePoll
        self.standbyRetry = standbyRetry
        self.errorBackoff = errorBackoff
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
public final class OutboxRelay: Service, Sendable {
    let outbox: OutboxStore
    let configuration: OutboxRelayConfiguration
    let topics: TopicProvisioner
    let logger: Logger
    private let worker: SingleActiveWorker
    private let delivered = Counter(label: "tipwire_relay_events_delivered_total")
    private let failed = Counter(label: "tipwire_relay_events_failed_total")
    private let lag = Metrics.Timer(label: "tipwire_relay_commit_to_delivery_seconds")

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
        while !Task.isCancelled {
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
