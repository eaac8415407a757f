import CRdKafka
import Foundation
import Logging
import Synchronization

/// An in-process Kafka cluster: librdkafka's mock cluster.
///
/// It speaks the real Kafka protocol on loopback TCP ports, so any client
/// (ours, `kcat`, Python's aiokafka) can use it; it keeps everything in memory
/// and lives as long as this object. For development and tests only.
/// Fault injection: brokers down/up, injected request errors, round-trip delay.
public final class EmbeddedBroker: Sendable {
    private let client: RdKafkaClient
    private let cluster: SendableHandle
    private let destroyed = Mutex(false)
    public let brokerCount: Int
    /// `host:port,host:port,…` for clients' `bootstrap.servers`.
    public let bootstrapServers: String

    public init(brokers: Int = 1, defaultPartitions: Int? = nil, logger: Logger = Logger(label: "kafka.embedded")) throws {
        guard (1...64).contains(brokers) else {
            throw KafkaError(configuration: "an embedded cluster has 1 to 64 brokers, not \(brokers)", context: "embedded broker")
        }
        // The mock cluster is owned by a client handle; this one never produces.
        // The owner handle never connects anywhere; without log_level 3 it warns that it has no bootstrap servers.
        client = try RdKafkaClient(
            type: RD_KAFKA_PRODUCER, settings: ["log.connection.close": "false", "log_level": "3"], context: ClientContext(logger: logger))
        guard let cluster = rd_kafka_mock_cluster_new(client.handle, Int32(brokers)) else {
            throw KafkaError(configuration: "could not start the mock cluster", context: "embedded broker")
        }
        self.cluster = SendableHandle(cluster)
        self.brokerCount = brokers
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit { shutdown() }

    /// Producer settings for this broker: the mock cluster of librdkafka 2.0.2 answers a second
    /// request pipelined on a connection only ~50 ms late, so producers keep one request in flight
    /// (still idempotent and ordered). Apache Kafka needs no such setting.
    public static let producerSettings: [String: String] = ["max.in.flight.requests.per.connection": "1"]

    /// Broker ids are 1…brokerCount.
    public var brokerIDs: [Int32] { (1...Int32(brokerCount)).map { $0 } }

    /// Creates a topic up front (otherwise topics are created on first use with 4 partitions).
    public func createTopic(_ name: String, partitions: Int, replicationFactor: Int = 1) throws {
        let (partitionCount, replicas) = try topicCounts(partitions: partitions, replicationFactor: replicationFactor, topic: name)
        try check(rd_kafka_mock_topic_create(cluster.pointer, name, partitionCount, replicas), "create topic \(name)")
    }

    /// Disconnects the broker and refuses connections until `setBrokerUp`.
    public func setBrokerDown(_ broker: Int32) throws {
        try check(rd_kafka_mock_broker_set_down(cluster.pointer, broker), "set broker \(broker) down")
    }

    public func setBrokerUp(_ broker: Int32) throws {
        try check(rd_kafka_mock_broker_set_up(cluster.pointer, broker), "set broker \(broker) up")
    }

    public func setAllBrokers(up: Bool) throws {
        for broker in brokerIDs { try up ? setBrokerUp(broker) : setBrokerDown(broker) }
    }

    /// Delays every response of the broker by `delay`.
    public func setRoundTripTime(_ broker: Int32, _ delay: Duration) throws {
        try check(rd_kafka_mock_broker_set_rtt(cluster.pointer, broker, Int32(delay.milliseconds)), "set broker \(broker) rtt")
    }

    /// The next requests of `apiKey` (cluster-wide) fail with these errors, one each, in order.
    public func pushRequestErrors(_ apiKey: KafkaAPIKey, _ errors: [KafkaErrorCode]) {
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0.rawValue) }
        codes.withUnsafeBufferPointer { rd_kafka_mock_push_request_errors_array(cluster.pointer, apiKey.rawValue, codes.count, $0.baseAddress) }
    }

    public func clearRequestErrors(_ apiKey: KafkaAPIKey) {
        rd_kafka_mock_clear_request_errors(cluster.pointer, apiKey.rawValue)
    }

    /// Makes metadata requests for the topic report `error` (nil clears it).
    public func setTopicError(_ topic: String, _ error: KafkaErrorCode?) {
        rd_kafka_mock_topic_set_error(cluster.pointer, topic, rd_kafka_resp_err_t(rawValue: error?.rawValue ?? 0))
    }

    /// Stops the cluster; clients connected to it see the brokers vanish.
    public func shutdown() {
        let alreadyDestroyed = destroyed.withLock { destroyed -> Bool in
            defer { destroyed = true }
            return destroyed
        }
        if !alreadyDestroyed { rd_kafka_mock_cluster_destroy(cluster.pointer) }
    }

    private func check(_ code: rd_kafka_resp_err_t, _ context: String) throws {
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: code, context: context) }
    }
}
