import CRdKafka
import Foundation
import Logging
import Synchronization

public struct KafkaConsumerConfiguration: Sendable {
    public enum OffsetReset: String, Sendable {
        case earliest, latest
    }

    public var bootstrapServers: String
    public var groupID: String
    public var clientID: String
    /// Where a group with no committed offset starts.
    public var autoOffsetReset: OffsetReset
    /// Stored offsets are committed this often in the background, on rebalance and on close.
    public var commitInterval: Duration
    public var sessionTimeout: Duration
    /// Raw librdkafka settings, applied last (the escape hatch).
    public var settings: [String: String]

    public init(
        bootstrapServers: String, groupID: String, clientID: String = "swift-kafka", autoOffsetReset: OffsetReset = .earliest,
        commitInterval: Duration = .seconds(1), sessionTimeout: Duration = .seconds(10), settings: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.groupID = groupID
        self.clientID = clientID
        self.autoOffsetReset = autoOffsetReset
        self.commitInterval = commitInterval
        self.sessionTimeout = sessionTimeout
        self.settings = settings
    }

    var librdkafkaSettings: [String: String] {
        var values = [
            "bootstrap.servers": bootstrapServers,
            "group.id": groupID,
            "client.id": clientID,
            "auto.offset.reset": autoOffsetReset.rawValue,
            // The application stores an offset only after it has processed the message.
            "enable.auto.offset.store": "false",
            "enable.auto.commit": "true",
            "auto.commit.interval.ms": String(commitInterval.milliseconds),
            "session.timeout.ms": String(sessionTimeout.milliseconds),
            "heartbeat.interval.ms": String(max(100, sessionTimeout.milliseconds / 4)),
            "enable.partition.eof": "false",
        ]
        values.merge(settings) { $1 }
        return values
    }
}

/// A member of a consumer group.
///
/// Iterate `messages` to receive; after processing a message, `storeOffset` it:
/// stored offsets are committed in the background, on rebalance and on
/// `close()`, so a restarted consumer resumes after the last processed message.
/// Blocking librdkafka calls run on the consumer's own dispatch queue.
public final class KafkaConsumer: Sendable {
    private let client: RdKafkaClient
    private let queue = DispatchQueue(label: "kafka.consumer")
    private let commitQueue = DispatchQueue(label: "kafka.consumer.commit")
    private let closed = Mutex(false)
    public let logger: Logger

    public init(configuration: KafkaConsumerConfiguration, logger: Logger = Logger(label: "kafka.consumer")) throws {
        let context = ClientContext(logger: logger)
        client = try RdKafkaClient(type: RD_KAFKA_CONSUMER, settings: configuration.librdkafkaSettings, context: context) { conf in
            rd_kafka_conf_set_rebalance_cb(conf, rebalanceCallback)
        }
        rd_kafka_poll_set_consumer(client.handle)
        self.logger = logger
    }

    /// Subscribes to topics; a name starting with `^` is a regular expression (`^tipwire\\.responses\\..*`).
    public func subscribe(topics: [String]) throws {
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for topic in topics { rd_kafka_topic_partition_list_add(list, topic, RD_KAFKA_PARTITION_UA) }
        let code = rd_kafka_subscribe(client.handle, list)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: code, context: "subscribe to \(topics)") }
    }

    /// Messages from the subscribed topics. One iterator at a time.
    public var messages: KafkaMessages { KafkaMessages(consumer: self) }

    /// Records that `message` was processed: the group resumes after it.
    public func storeOffset(_ message: KafkaMessage) throws {
        try storeOffsets([message])
    }

    /// Records the highest processed offset of each partition among `messages`.
    public func storeOffsets(_ messages: [KafkaMessage]) throws {
        var next: [KafkaTopicPartition: Int64] = [:]
        for message in messages {
            let key = KafkaTopicPartition(topic: message.topic, partition: message.partition)
            next[key] = max(next[key] ?? 0, message.offset + 1)
        }
        guard !next.isEmpty else { return }
        let list = rd_kafka_topic_partition_list_new(Int32(next.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (partition, offset) in next {
            rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition)?.pointee.offset = offset
        }
        let code = rd_kafka_offsets_store(client.handle, list)
        // A partition revoked in the meantime reports an error per partition; its new owner will re-read it.
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR__STATE else {
            throw KafkaError(code: code, context: "store offsets")
        }
    }

    /// Commits stored offsets now and waits for the broker's answer.
    public func commit() async throws {
        let handle = SendableHandle(client.handle)
        let code = try await runBlocking(on: commitQueue) { rd_kafka_commit(handle.pointer, nil, 0) }
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR__NO_OFFSET else {
            throw KafkaError(code: code, context: "commit offsets")
        }
    }

    /// Partitions currently assigned to this member.
    public var assignment: Set<KafkaTopicPartition> { client.context.assignment.withLock { $0 } }

    /// Stops fetching from the partitions until `resume`.
    public func pause(_ partitions: [KafkaTopicPartition]) throws {
        try withPartitionList(partitions) { rd_kafka_pause_partitions(client.handle, $0) }
    }

    public func resume(_ partitions: [KafkaTopicPartition]) throws {
        try withPartitionList(partitions) { rd_kafka_resume_partitions(client.handle, $0) }
    }

    private func withPartitionList(
        _ partitions: [KafkaTopicPartition], _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> rd_kafka_resp_err_t
    ) throws {
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in partitions { rd_kafka_topic_partition_list_add(list, partition.topic, partition.partition) }
        let code = body(list)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(code: code, context: "pause/resume \(partitions)") }
    }

    /// Commits stored offsets, leaves the group and stops. Iteration then ends.
    public func close() async {
        let wasClosed = closed.withLock { closed -> Bool in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        let handle = SendableHandle(client.handle)
        let code = try? await runBlocking(on: queue) { rd_kafka_consumer_close(handle.pointer) }
        if let code, code != RD_KAFKA_RESP_ERR_NO_ERROR {
            logger.warning("consumer close reported an error", metadata: ["error": "\(KafkaError(code: code, context: "close"))"])
        }
    }

    var isClosed: Bool { closed.withLock { $0 } }

    /// Polls up to `limit` messages, waiting at most 100 ms for the first; runs on the consumer's queue.
    func poll(limit: Int) async throws -> [KafkaMessage] {
        let handle = SendableHandle(client.handle)
        let logger = logger
        return try await runBlocking(on: queue) { [self] in
            var messages: [KafkaMessage] = []
            var timeout: Int32 = 100
            while messages.count < limit, !isClosed {
                guard let raw = rd_kafka_consumer_poll(handle.pointer, timeout) else { break }
                defer { rd_kafka_message_destroy(raw) }
                timeout = 0
                let message = raw.pointee
                if message.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                    let error = KafkaError(code: message.err, context: "consume", message: consumerErrorText(raw))
                    if rd_kafka_fatal_error(handle.pointer, nil, 0) != RD_KAFKA_RESP_ERR_NO_ERROR { throw error }
                    logger.warning("consumer error; continuing", metadata: ["error": "\(error)"])
                    continue
                }
                messages.append(
                    KafkaMessage(
                        topic: message.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "",
                        partition: message.partition,
                        offset: message.offset,
                        key: message.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.key_len)) },
                        value: message.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.len)) } ?? [],
                        headers: readHeaders(raw),
                        timestampMilliseconds: messageTimestamp(raw)))
            }
            return messages
        }
    }
}

/// Messages as an `AsyncSequence`; iteration ends when the consumer is closed or the task cancelled.
public struct KafkaMessages: AsyncSequence, Sendable {
    public typealias Element = KafkaMessage
    let consumer: KafkaConsumer

    public struct AsyncIterator: AsyncIteratorProtocol {
        let consumer: KafkaConsumer
        var buffer: [KafkaMessage] = []
        var position = 0

        public mutating func next() async throws -> KafkaMessage? {
            while position >= buffer.count {
                if consumer.isClosed || Task.isCancelled { return nil }
                buffer = try await consumer.poll(limit: 500)
                position = 0
            }
            defer { position += 1 }
            return buffer[position]
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(consumer: consumer) }
}

extension KafkaConsumer {
    /// Messages in the batches they arrive in (each non-empty, at most `limit`), for callers that
    /// process several at once; iteration ends when the consumer is closed or the task cancelled.
    public func batches(limit: Int = 500) -> KafkaMessageBatches { KafkaMessageBatches(consumer: self, limit: max(1, limit)) }
}

public struct KafkaMessageBatches: AsyncSequence, Sendable {
    public typealias Element = [KafkaMessage]
    let consumer: KafkaConsumer
    let limit: Int

    public struct AsyncIterator: AsyncIteratorProtocol {
        let consumer: KafkaConsumer
        let limit: Int

        public mutating func next() async throws -> [KafkaMessage]? {
            while true {
                if consumer.isClosed || Task.isCancelled { return nil }
                let batch = try await consumer.poll(limit: limit)
                if !batch.isEmpty { return batch }
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(consumer: consumer, limit: limit) }
}

private func consumerErrorText(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> String {
    guard let payload = message.pointee.payload else { return String(cString: rd_kafka_err2str(message.pointee.err)) }
    return String(decoding: UnsafeRawBufferPointer(start: payload, count: message.pointee.len), as: UTF8.self)
}

private func messageTimestamp(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> Int64? {
    var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
    let timestamp = rd_kafka_message_timestamp(message, &type)
    return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
}

/// Applies assignments for both eager and cooperative rebalancing and tracks them.
private let rebalanceCallback:
    @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
    ) -> Void = { handle, code, partitions, opaque in
        guard let handle, let context = ClientContext.from(opaque) else { return }
        var changed: [KafkaTopicPartition] = []
        if let partitions {
            for index in 0..<Int(partitions.pointee.cnt) {
                let element = partitions.pointee.elems[index]
                changed.append(KafkaTopicPartition(topic: String(cString: element.topic), partition: element.partition))
            }
        }
        let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
        if code == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
            if cooperative {
                if let error = rd_kafka_incremental_assign(handle, partitions) { rd_kafka_error_destroy(error) }
            } else {
                rd_kafka_assign(handle, partitions)
            }
            context.assignment.withLock { $0.formUnion(changed) }
            context.logger.info("partitions assigned", metadata: ["partitions": "\(changed.map(\.description).sorted())"])
        } else {
            // Commit what was processed before giving the partitions away.
            _ = rd_kafka_commit(handle, nil, 0)
            if cooperative {
                if let error = rd_kafka_incremental_unassign(handle, partitions) { rd_kafka_error_destroy(error) }
            } else {
                rd_kafka_assign(handle, nil)
            }
            context.assignment.withLock { $0.subtract(changed) }
            context.logger.info("partitions revoked", metadata: ["partitions": "\(changed.map(\.description).sorted())"])
        }
    }
