import CRdKafka
import Foundation
import Logging
import Synchronization

/// Partition and replica counts as librdkafka's `int32_t`s, refused (not trapped on) when out of range.
func topicCounts(partitions: Int, replicationFactor: Int, topic: String) throws -> (Int32, Int32) {
    guard let partitionCount = Int32(exactly: partitions), partitionCount >= 1, let replicas = Int32(exactly: replicationFactor), replicas >= 1 else {
        throw KafkaError(
            configuration: "partitions (\(partitions)) and replication factor (\(replicationFactor)) must be positive 32-bit numbers",
            context: "create topic \(topic)")
    }
    return (partitionCount, replicas)
}

/// A flag a cancellation handler raises for blocking code to see.
final class StopFlag: Sendable {
    private let raised = Atomic<Bool>(false)
    func set() { raised.store(true, ordering: .relaxed) }
    var isSet: Bool { raised.load(ordering: .relaxed) }
}

/// Creates and lists topics.
public final class KafkaAdmin: Sendable {
    private let client: RdKafkaClient
    private let queue = DispatchQueue(label: "kafka.admin")

    public init(bootstrapServers: String, settings: [String: String] = [:], logger: Logger = Logger(label: "kafka.admin")) throws {
        var values = ["bootstrap.servers": bootstrapServers]
        values.merge(settings) { $1 }
        client = try RdKafkaClient(type: RD_KAFKA_PRODUCER, settings: values, context: ClientContext(logger: logger))
    }

    /// Creates a topic. With `ifNotExists`, an existing topic is not an error.
    public func createTopic(
        _ name: String, partitions: Int, replicationFactor: Int = 1, config: [String: String] = [:], ifNotExists: Bool = true,
        timeout: Duration = .seconds(30)
    ) async throws {
        let handle = SendableHandle(client.handle)
        let stopping = StopFlag()
        try await withTaskCancellationHandler {
            try await createTopic(
                name, partitions: partitions, replicationFactor: replicationFactor, config: config, ifNotExists: ifNotExists, timeout: timeout,
                handle: handle, stopping: stopping)
        } onCancel: {
            stopping.set()
        }
    }

    private func createTopic(
        _ name: String, partitions: Int, replicationFactor: Int, config: [String: String], ifNotExists: Bool, timeout: Duration,
        handle: SendableHandle,
        stopping: StopFlag
    ) async throws {
        try await runBlocking(on: queue) {
            var errorBuffer = [CChar](repeating: 0, count: 512)
            let (partitionCount, replicas) = try topicCounts(partitions: partitions, replicationFactor: replicationFactor, topic: name)
            guard let topic = rd_kafka_NewTopic_new(name, partitionCount, replicas, &errorBuffer, errorBuffer.count) else {
                throw KafkaError(configuration: cBufferText(errorBuffer), context: "create topic \(name)")
            }
            defer { rd_kafka_NewTopic_destroy(topic) }
            for (key, value) in config { rd_kafka_NewTopic_set_config(topic, key, value) }
            let resultQueue = rd_kafka_queue_new(handle.pointer)
            defer { rd_kafka_queue_destroy(resultQueue) }
            let options = rd_kafka_AdminOptions_new(handle.pointer, RD_KAFKA_ADMIN_OP_CREATETOPICS)
            defer { rd_kafka_AdminOptions_destroy(options) }
            rd_kafka_AdminOptions_set_request_timeout(options, Int32(timeout.milliseconds), &errorBuffer, errorBuffer.count)
            var topics: [OpaquePointer?] = [topic]
            rd_kafka_CreateTopics(handle.pointer, &topics, 1, options, resultQueue)
            let event = try adminResult(on: resultQueue, timeout: timeout, stopping: stopping, context: "create topic \(name)")
            defer { rd_kafka_event_destroy(event) }
            var count = 0
            guard let result = rd_kafka_event_CreateTopics_result(event),
                let results = rd_kafka_CreateTopics_result_topics(result, &count), count > 0
            else { return }
            let code = rd_kafka_topic_result_error(results[0])
            if code == RD_KAFKA_RESP_ERR_NO_ERROR || (ifNotExists && code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) { return }
            let message = rd_kafka_topic_result_error_string(results[0]).map { String(cString: $0) }
            throw KafkaError(code: code, context: "create topic \(name)", message: message)
        }
    }

    /// Allows each binding's principal its operation on its resource (Kafka's CreateAcls; an ACL that
    /// exists already is not an error). Throws for the first binding the cluster refuses, naming it.
    public func createACLs(_ bindings: [KafkaACLBinding], timeout: Duration = .seconds(30)) async throws {
        if bindings.isEmpty { return }
        let handle = SendableHandle(client.handle)
        let stopping = StopFlag()
        try await withTaskCancellationHandler {
            try await runBlocking(on: queue) {
                var errorBuffer = [CChar](repeating: 0, count: 512)
                var acls: [OpaquePointer?] = []
                defer { for acl in acls { rd_kafka_AclBinding_destroy(acl) } }
                for binding in bindings {
                    guard
                        let acl = rd_kafka_AclBinding_new(
                            binding.resourceType.rdKafka, binding.resourceName,
                            binding.prefixed ? RD_KAFKA_RESOURCE_PATTERN_PREFIXED : RD_KAFKA_RESOURCE_PATTERN_LITERAL,
                            binding.principal, "*", binding.operation.rdKafka, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW, &errorBuffer, errorBuffer.count)
                    else { throw KafkaError(configuration: cBufferText(errorBuffer), context: "create ACL \(binding)") }
                    acls.append(acl)
                }
                let resultQueue = rd_kafka_queue_new(handle.pointer)
                defer { rd_kafka_queue_destroy(resultQueue) }
                let options = rd_kafka_AdminOptions_new(handle.pointer, RD_KAFKA_ADMIN_OP_CREATEACLS)
                defer { rd_kafka_AdminOptions_destroy(options) }
                rd_kafka_AdminOptions_set_request_timeout(options, Int32(timeout.milliseconds), &errorBuffer, errorBuffer.count)
                rd_kafka_CreateAcls(handle.pointer, &acls, acls.count, options, resultQueue)
                let event = try adminResult(on: resultQueue, timeout: timeout, stopping: stopping, context: "create \(bindings.count) ACLs")
                defer { rd_kafka_event_destroy(event) }
                var count = 0
                guard let result = rd_kafka_event_CreateAcls_result(event), let results = rd_kafka_CreateAcls_result_acls(result, &count) else {
                    return
                }
                for index in 0..<min(count, bindings.count) {
                    guard let error = rd_kafka_acl_result_error(results[index]) else { continue }
                    throw KafkaError(
                        code: rd_kafka_error_code(error), context: "create ACL \(bindings[index])",
                        message: String(cString: rd_kafka_error_string(error)))
                }
            }
        } onCancel: {
            stopping.set()
        }
    }

    /// Topics the cluster knows, sorted by name (internal `__` topics excluded).
    public func listTopics(timeout: Duration = .seconds(10)) async throws -> [KafkaTopicMetadata] {
        let handle = SendableHandle(client.handle)
        return try await runBlocking(on: queue) {
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let code = rd_kafka_metadata(handle.pointer, 1, nil, &metadata, Int32(timeout.milliseconds))
            guard code == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(code: code, context: "list topics") }
            defer { rd_kafka_metadata_destroy(metadata) }
            return (0..<Int(metadata.pointee.topic_cnt)).map { index in
                let topic = metadata.pointee.topics[index]
                return KafkaTopicMetadata(name: String(cString: topic.topic), partitions: Int(topic.partition_cnt))
            }
            .filter { !$0.name.hasPrefix("__") }
            .sorted { $0.name < $1.name }
        }
    }
}

/// The result event of an admin request, polled in short slices, so a caller that stops (SIGTERM while
/// the brokers are away) is not held for the whole request timeout. The caller destroys the event.
private func adminResult(on resultQueue: OpaquePointer?, timeout: Duration, stopping: StopFlag, context: String) throws -> OpaquePointer {
    var event: OpaquePointer?
    var waited: Int64 = 0
    while event == nil, waited <= timeout.milliseconds + 1000, !stopping.isSet {
        event = rd_kafka_queue_poll(resultQueue, 250)
        waited += 250
    }
    guard let event else {
        if stopping.isSet { throw CancellationError() }
        throw KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT, context: context)
    }
    let eventError = rd_kafka_event_error(event)
    guard eventError == RD_KAFKA_RESP_ERR_NO_ERROR else {
        let message = String(cString: rd_kafka_event_error_string(event))
        rd_kafka_event_destroy(event)
        throw KafkaError(code: eventError, context: context, message: message)
    }
    return event
}

/// An ACL that allows `principal` `operation` on a resource from any host.
public struct KafkaACLBinding: Sendable, Hashable, CustomStringConvertible {
    public enum ResourceType: Sendable, Hashable {
        case topic, group, cluster

        var rdKafka: rd_kafka_ResourceType_t {
            switch self {
            case .topic: RD_KAFKA_RESOURCE_TOPIC
            case .group: RD_KAFKA_RESOURCE_GROUP
            // librdkafka names Kafka's CLUSTER resource type (4) BROKER.
            case .cluster: RD_KAFKA_RESOURCE_BROKER
            }
        }
    }

    public enum Operation: Sendable, Hashable {
        case read, write, create, describe, idempotentWrite

        var rdKafka: rd_kafka_AclOperation_t {
            switch self {
            case .read: RD_KAFKA_ACL_OPERATION_READ
            case .write: RD_KAFKA_ACL_OPERATION_WRITE
            case .create: RD_KAFKA_ACL_OPERATION_CREATE
            case .describe: RD_KAFKA_ACL_OPERATION_DESCRIBE
            case .idempotentWrite: RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE
            }
        }
    }

    /// Kafka's name for the one cluster resource.
    public static let clusterName = "kafka-cluster"

    public let principal: String
    public let operation: Operation
    public let resourceType: ResourceType
    public let resourceName: String
    /// Whether the ACL covers every resource whose name starts with `resourceName`.
    public let prefixed: Bool

    public init(principal: String, operation: Operation, resourceType: ResourceType, resourceName: String, prefixed: Bool = false) {
        self.principal = principal
        self.operation = operation
        self.resourceType = resourceType
        self.resourceName = resourceType == .cluster ? Self.clusterName : resourceName
        self.prefixed = prefixed
    }

    public var description: String {
        "\(principal) \(operation) \(resourceType) \(resourceName)\(prefixed ? " (prefixed)" : "")"
    }
}
