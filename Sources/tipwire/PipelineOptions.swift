import ArgumentParser
import Kafka
import Logging
import TipwireCommandLine
import TipwireCore
import TipwirePipeline
import TipwireStore

/// Which pipeline parts `serve` and `dev` run in their process (all, unless told otherwise).
struct PipelineSelection: ParsableArguments {
    @Flag(inversion: .prefixedNo, help: "Run the outbox relay in this process (one is active at a time; others stand by).")
    var relay = true

    @Flag(
        inversion: .prefixedNo, help: "Run the response consumer in this process (consumer group tipwire-responses; run several to share partitions)."
    )
    var responses = true

    @Flag(inversion: .prefixedNo, help: "Run the deadline engine in this process (one is active at a time; others stand by).")
    var deadlines = true

    /// The relay and the response consumer talk to Kafka; the deadline engine only writes to the outbox.
    var needsKafka: Bool { relay || responses }
}

/// The size of topics tipwire creates: by the relay and the response consumer on demand, by `tipwire provision`.
struct TopicSizeOptions: ParsableArguments {
    @Option(name: .customLong("topic-partitions"), help: "Partitions of topics tipwire creates (env TIPWIRE_TOPIC_PARTITIONS, default 3).")
    var partitionsFlag: Int?

    @Option(name: .customLong("topic-replication"), help: "Replication of topics tipwire creates (env TIPWIRE_TOPIC_REPLICATION, default 1).")
    var replicationFlag: Int?

    func validate() throws {
        try checkRange(partitions, 1...10_000, "--topic-partitions (or TIPWIRE_TOPIC_PARTITIONS)")
        try checkRange(replication, 1...100, "--topic-replication (or TIPWIRE_TOPIC_REPLICATION)")
    }

    var partitions: Int {
        get throws { try partitionsFlag ?? Environment.number("TIPWIRE_TOPIC_PARTITIONS") ?? 3 }
    }
    var replication: Int {
        get throws { try replicationFlag ?? Environment.number("TIPWIRE_TOPIC_REPLICATION") ?? 1 }
    }
}

/// How topics are created on demand: by the relay before producing, by the response consumer before subscribing.
struct TopicOptions: ParsableArguments {
    @OptionGroup var size: TopicSizeOptions

    @Flag(inversion: .prefixedNo, help: "Create missing topics before producing to them (off: an operator creates them, or the broker auto-creates).")
    var createTopics = true

    func provisioner(kafka: KafkaEndpoint, embedded: EmbeddedBroker?) throws -> TopicProvisioner {
        if !createTopics { return .existing }
        if let embedded { return .embedded(embedded, partitions: try size.partitions) }
        return try .kafka(
            KafkaAdmin(bootstrapServers: kafka.brokers, settings: kafka.settings), partitions: size.partitions, replicationFactor: size.replication)
    }
}

/// Settings of the outbox relay.
struct RelayOptions: ParsableArguments {
    @Option(help: "Outbox rows produced per round.")
    var relayBatch = 5000

    @Option(
        help: ArgumentHelp(
            "Days delivered events are kept whole, to be produced again should Kafka lose them.",
            discussion: "The relay produces them again by itself when it finds another or a shorter cluster; `tipwire relay replay` does it by hand."
        ))
    var retentionDays = 30

    @Option(help: "Seconds between the relay's checks that Kafka still holds what was delivered to it.")
    var clusterCheckSeconds = 60

    func validate() throws {
        try checkRange(relayBatch, 1...100_000, "--relay-batch")
        try checkRange(retentionDays, 1...3650, "--retention-days")
        try checkRange(clusterCheckSeconds, 1...86_400, "--cluster-check-seconds")
    }
}

/// Settings of the response consumer.
struct ResponseOptions: ParsableArguments {
    @Option(help: "Responses applied per transaction, at most.")
    var responseBatch = 500

    func validate() throws {
        try checkRange(responseBatch, 1...100_000, "--response-batch")
    }
}

/// Settings of the deadline engine.
struct DeadlineOptions: ParsableArguments {
    @Option(help: "Clocks the deadline engine claims per transaction.")
    var deadlineBatch = 2000

    func validate() throws {
        try checkRange(deadlineBatch, 1...100_000, "--deadline-batch")
    }

    func engine(stores: TipwireStores) -> DeadlineEngine {
        DeadlineEngine(
            stores: stores, configuration: DeadlineEngineConfiguration(batchSize: deadlineBatch), logger: Logger(label: "tipwire.deadlines"))
    }
}

/// The Kafka side of the pipeline, resolved once: where the clients connect and how topics are made.
struct PipelineKafka {
    let endpoint: KafkaEndpoint
    let embedded: EmbeddedBroker?
    let topics: TopicOptions

    func producer(clientID: String, defaults: [String: String] = [:]) -> KafkaProducerConfiguration {
        let defaults = defaults.merging(embedded == nil ? [:] : EmbeddedBroker.producerSettings) { own, _ in own }
        let settings = endpoint.settings.merging(defaults) { own, _ in own }
        return KafkaProducerConfiguration(bootstrapServers: endpoint.brokers, clientID: clientID, settings: settings)
    }

    /// The relay's producer. When tipwire makes its topics (with its partition count), the relay must not
    /// have the broker make one with the broker's own count, as it would for a topic a rebuilt cluster lacks:
    /// producing there fails instead, and the relay's cluster check makes the topic and produces it again.
    func relayProducer() -> KafkaProducerConfiguration {
        producer(clientID: "tipwire-relay", defaults: topics.createTopics ? ["allow.auto.create.topics": "false"] : [:])
    }

    func relay(_ options: RelayOptions, stores: TipwireStores) throws -> OutboxRelay {
        OutboxRelay(
            stores: stores,
            configuration: OutboxRelayConfiguration(
                producer: relayProducer(), batchSize: options.relayBatch, retention: .seconds(options.retentionDays * 86_400),
                clusterCheck: .seconds(options.clusterCheckSeconds)),
            topics: try topics.provisioner(kafka: endpoint, embedded: embedded), logger: Logger(label: "tipwire.relay"))
    }

    func responseConsumer(_ options: ResponseOptions, stores: TipwireStores) throws -> ResponseConsumer {
        let configuration = ResponseConsumerConfiguration(
            consumer: KafkaConsumerConfiguration(
                bootstrapServers: endpoint.brokers, groupID: ConsumerGroupName.responses, clientID: "tipwire-responses",
                settings: endpoint.settings.merging(["topic.metadata.refresh.interval.ms": "5000"]) { own, _ in own }),
            producer: producer(clientID: "tipwire-dead-letters"), batchSize: options.responseBatch)
        return ResponseConsumer(
            stores: stores, configuration: configuration, topics: try topics.provisioner(kafka: endpoint, embedded: embedded),
            logger: Logger(label: "tipwire.responses"))
    }
}

/// Everything `serve` and `dev` take about the pipeline.
struct PipelineOptions: ParsableArguments {
    @OptionGroup var run: PipelineSelection
    @OptionGroup var topics: TopicOptions
    @OptionGroup var relay: RelayOptions
    @OptionGroup var responses: ResponseOptions
    @OptionGroup var deadlines: DeadlineOptions
}
