import CRdKafka
import Foundation
import Logging
import Synchronization

public struct KafkaProducerConfiguration: Sendable {
    public var bootstrapServers: String
    public var clientID: String
    /// Idempotent producer (acks=all, no duplicates or reordering on retry). On by default.
    public var idempotent: Bool
    /// How long a message may wait for delivery, retries included, before it fails.
    public var deliveryTimeout: Duration
    /// How long to wait to fill a batch; a little linger buys a lot of throughput.
    public var linger: Duration
    /// Raw librdkafka settings, applied last (the escape hatch).
    public var settings: [String: String]

    public init(
        bootstrapServers: String, clientID: String = "swift-kafka", idempotent: Bool = true,
        deliveryTimeout: Duration = .seconds(120), linger: Duration = .milliseconds(5), settings: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.idempotent = idempotent
        self.deliveryTimeout = deliveryTimeout
        self.linger = linger
        self.settings = settings
    }

    var librdkafkaSettings: [String: String] {
        var values = [
            "bootstrap.servers": bootstrapServers,
            "client.id": clientID,
            "enable.idempotence": idempotent ? "true" : "false",
            "acks": idempotent ? "all" : "1",
            "message.timeout.ms": String(deliveryTimeout.milliseconds),
            "linger.ms": String(linger.milliseconds),
            // Without this, Nagle's algorithm meets the broker's delayed ACKs and small produce
            // requests wait ~40 ms for their delivery report.
            "socket.nagle.disable": "true",
            "queue.buffering.max.messages": "1000000",
            "queue.buffering.max.kbytes": "1048576",
        ]
        values.merge(settings) { $1 }
        return values
    }
}

/// Produces messages and reports each one's delivery.
///
/// `send` returns only after the broker acknowledged the message (with its
/// partition and offset) or throws the delivery error. A dedicated thread serves
/// librdkafka's delivery callbacks and resumes the waiting tasks.
public final class KafkaProducer: Sendable {
    private let client: RdKafkaClient
    private let poller: PollThread
    private let closed = Mutex(false)
    private let blockingQueue = DispatchQueue(label: "kafka.producer.blocking")
    public let logger: Logger

    public init(configuration: KafkaProducerConfiguration, logger: Logger = Logger(label: "kafka.producer")) throws {
        let context = ClientContext(logger: logger)
        client = try RdKafkaClient(type: RD_KAFKA_PRODUCER, settings: configuration.librdkafkaSettings, context: context) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf, deliveryCallback)
        }
        poller = PollThread(client: client, name: "kafka-producer-poll")
        self.logger = logger
    }

    deinit {
        // Without shutdown(): stop polling so the thread releases the client, which then destroys the handle.
        poller.requestStop()
    }

    /// Sends one message and waits for its delivery report.
    @discardableResult
    public func send(_ message: KafkaOutgoingMessage) async throws -> KafkaDeliveryReport {
        let results = try await send([message])
        return try results[0].get()
    }

    /// Sends messages and waits until every one is delivered or failed; results are in input order.
    /// Throws only when the producer cannot accept messages at all (shut down, fatal error).
    public func send(_ messages: [KafkaOutgoingMessage]) async throws -> [Result<KafkaDeliveryReport, KafkaError>] {
        if messages.isEmpty { return [] }
        if closed.withLock({ $0 }) { throw KafkaError.closed("produce") }
        let batch = DeliveryBatch(count: messages.count)
        let batchID = client.context.deliveries.register(batch)
        for (index, message) in messages.enumerated() {
            let id = DeliveryTracker.messageID(batch: batchID, index: index)
            while true {
                let code = enqueue(message, opaque: id)
                if code == RD_KAFKA_RESP_ERR_NO_ERROR { break }
                if code == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                    // The local queue is full: let deliveries drain it.
                    try? await Task.sleep(for: .milliseconds(1))
                    continue
                }
                client.context.deliveries.complete(id: id, with: .failure(KafkaError(code: code, context: "produce to \(message.topic)")))
                break
            }
        }
        // Payloads are produced without a copy (see `enqueue`), so `messages` must
        // outlive every delivery report: the batch completes only after the last one.
        let results = await withCheckedContinuation { batch.setContinuation($0) }
        withExtendedLifetime(messages) {}
        return results
    }

    /// Hands one message to librdkafka and returns the enqueue result.
    ///
    /// The payload is not copied: librdkafka reads it from the array's storage
    /// until the message's delivery report, and `send` keeps the messages alive
    /// and unmutated until then. Copying every payload (`RD_KAFKA_MSG_F_COPY`)
    /// halved throughput: each copy is a malloc that grows the sending thread's
    /// arena. Keys and headers are always copied by librdkafka.
    private func enqueue(_ message: KafkaOutgoingMessage, opaque: UInt64) -> rd_kafka_resp_err_t {
        var headers: OpaquePointer?
        if !message.headers.isEmpty {
            headers = rd_kafka_headers_new(message.headers.count)
            for header in message.headers {
                if let value = header.value {
                    value.withUnsafeBytes { _ = rd_kafka_header_add(headers, header.key, -1, $0.baseAddress, $0.count) }
                } else {
                    _ = rd_kafka_header_add(headers, header.key, -1, nil, 0)
                }
            }
        }
        let code = message.topic.withCString { topic in
            message.value.withUnsafeBytes { value in
                withOptionalBytes(message.key) { key in
                    withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { fields in
                        fields.initialize(repeating: rd_kafka_vu_t())
                        fields[0].vtype = RD_KAFKA_VTYPE_TOPIC
                        fields[0].u.cstr = topic
                        fields[1].vtype = RD_KAFKA_VTYPE_VALUE
                        fields[1].u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                        fields[1].u.mem.size = value.count
                        fields[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
                        fields[2].u.i = 0  // neither copy nor free: the caller's storage outlives delivery
                        fields[3].vtype = RD_KAFKA_VTYPE_OPAQUE
                        fields[3].u.ptr = UnsafeMutableRawPointer(bitPattern: UInt(opaque))
                        var count = 4
                        if let key {
                            fields[count].vtype = RD_KAFKA_VTYPE_KEY
                            fields[count].u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                            fields[count].u.mem.size = key.count
                            count += 1
                        }
                        if let partition = message.partition {
                            fields[count].vtype = RD_KAFKA_VTYPE_PARTITION
                            fields[count].u.i32 = partition
                            count += 1
                        }
                        if let headers {
                            fields[count].vtype = RD_KAFKA_VTYPE_HEADERS
                            fields[count].u.headers = headers
                            count += 1
                        }
                        guard let error = rd_kafka_produceva(client.handle, fields.baseAddress, count) else { return RD_KAFKA_RESP_ERR_NO_ERROR }
                        defer { rd_kafka_error_destroy(error) }
                        return rd_kafka_error_code(error)
                    }
                }
            }
        }
        // On success librdkafka owns the headers; on failure they are still ours.
        if code != RD_KAFKA_RESP_ERR_NO_ERROR, let headers { rd_kafka_headers_destroy(headers) }
        return code
    }

    /// Sends messages like `send`, but if the calling task is cancelled meanwhile and the messages are
    /// still undelivered `grace` later, every message this producer has not yet delivered is purged
    /// (failed with `_PURGE_QUEUE` or `_PURGE_INFLIGHT`): a service stopping while the brokers are away
    /// returns promptly instead of waiting out the delivery timeout, and one stopping while they answer
    /// still finishes what it sent. For a producer owned by one service that stops with its task: a purged
    /// message may or may not have reached the broker, so senders that must not lose it send it again
    /// later (at least once).
    public func sendStoppingOnCancel(_ messages: [KafkaOutgoingMessage], grace: Duration = .seconds(3)) async throws
        -> [Result<KafkaDeliveryReport, KafkaError>]
    {
        let finished = StopFlag()
        defer { finished.set() }
        return try await withTaskCancellationHandler {
            try await send(messages)
        } onCancel: { [client] in
            // The closure holds the client, so its handle outlives the timer whatever becomes of the producer.
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(grace / .milliseconds(1)))) {
                if !finished.isSet { rd_kafka_purge(client.handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)) }
            }
        }
    }

    /// Waits until every queued message is delivered or failed.
    public func flush(timeout: Duration = .seconds(30)) async throws {
        let handle = SendableHandle(client.handle)
        let code = try await runBlocking(on: blockingQueue) { rd_kafka_flush(handle.pointer, Int32(timeout.milliseconds)) }
        if code != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(code: code, context: "flush") }
    }

    /// Messages queued locally or in flight.
    public var outstandingMessages: Int { Int(rd_kafka_outq_len(client.handle)) }

    /// The id of the cluster the producer reaches, once its metadata arrives (waiting up to `timeout`).
    public func clusterID(timeout: Duration = .seconds(10)) async throws -> String {
        let handle = SendableHandle(client.handle)
        return try await waitInSlices(timeout: timeout, context: "read the cluster id") { slice in
            guard let id = rd_kafka_clusterid(handle.pointer, slice) else { return nil }
            defer { rd_kafka_mem_free(handle.pointer, id) }
            return String(cString: id)
        }
    }

    /// The offset the partition's next message will get: how many it holds, counting from its first ever.
    /// A topic or partition the cluster does not have holds nothing (0).
    public func highWatermark(topic: String, partition: Int32, timeout: Duration = .seconds(10)) async throws -> Int64 {
        let handle = SendableHandle(client.handle)
        return try await waitInSlices(timeout: timeout, context: "read the high watermark of \(topic) [\(partition)]") { slice in
            var low: Int64 = 0
            var high: Int64 = 0
            let code = rd_kafka_query_watermark_offsets(handle.pointer, topic, partition, &low, &high, slice)
            switch code {
            case RD_KAFKA_RESP_ERR_NO_ERROR: return high
            case RD_KAFKA_RESP_ERR__TIMED_OUT: return nil
            case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION: return 0
            default: throw KafkaError(code: code, context: "read the high watermark of \(topic) [\(partition)]")
            }
        }
    }

    /// Runs a blocking librdkafka request in slices of a quarter second (`attempt` gets the slice in
    /// milliseconds and returns nil when it ran out), so a caller that stops (SIGTERM while the brokers
    /// are away) is not held for the whole `timeout`.
    private func waitInSlices<T: Sendable>(
        timeout: Duration, context: String, _ attempt: @escaping @Sendable (Int32) throws -> T?
    ) async throws -> T {
        let stopping = StopFlag()
        return try await withTaskCancellationHandler {
            try await runBlocking(on: blockingQueue) {
                var waited: Int64 = 0
                while !stopping.isSet {
                    if let value = try attempt(250) { return value }
                    waited += 250
                    if waited >= timeout.milliseconds { throw KafkaError(code: RD_KAFKA_RESP_ERR__TIMED_OUT, context: context) }
                }
                throw CancellationError()
            }
        } onCancel: {
            stopping.set()
        }
    }

    /// Flushes, fails whatever could not be delivered in time, and stops the client.
    public func shutdown(timeout: Duration = .seconds(30)) async {
        let wasClosed = closed.withLock { closed -> Bool in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        do {
            try await flush(timeout: timeout)
        } catch {
            logger.warning("undelivered messages at shutdown are failed", metadata: ["outstanding": "\(outstandingMessages)"])
            rd_kafka_purge(client.handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            _ = try? await flush(timeout: .seconds(5))
        }
        await poller.stop()
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

private let deliveryCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = {
    _, message, opaque in
    guard let message, let context = ClientContext.from(opaque) else { return }
    let id = UInt64(UInt(bitPattern: message.pointee._private))
    let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
    if message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        context.deliveries.complete(
            id: id, with: .success(KafkaDeliveryReport(topic: topic, partition: message.pointee.partition, offset: message.pointee.offset)))
    } else {
        context.deliveries.complete(id: id, with: .failure(KafkaError(code: message.pointee.err, context: "deliver to \(topic)")))
    }
}

/// Pending `send` batches. A message's opaque id is its batch id and index,
/// so a batch is registered once, not once per message.
final class DeliveryTracker: Sendable {
    private struct State {
        var nextBatch: UInt64 = 1
        var batches: [UInt64: DeliveryBatch] = [:]
    }
    private let state = Mutex(State())

    static func messageID(batch: UInt64, index: Int) -> UInt64 { batch << 32 | UInt64(index) }

    func register(_ batch: DeliveryBatch) -> UInt64 {
        state.withLock { state in
            let id = state.nextBatch
            // Ids stay below 2^31 so that id << 32 fits; after that many batches, wrap around.
            state.nextBatch = id >= 0x7fff_ffff ? 1 : id + 1
            state.batches[id] = batch
            return id
        }
    }

    func complete(id: UInt64, with result: Result<KafkaDeliveryReport, KafkaError>) {
        let batchID = id >> 32
        guard let batch = state.withLock({ $0.batches[batchID] }) else { return }
        if batch.complete(index: Int(id & 0xffff_ffff), with: result) {
            _ = state.withLock { $0.batches.removeValue(forKey: batchID) }
        }
    }
}

/// The results of one `send` call, resumed when the last message is reported.
final class DeliveryBatch: Sendable {
    private struct State {
        var results: [Result<KafkaDeliveryReport, KafkaError>?]
        var remaining: Int
        var continuation: CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>?
    }
    private let state: Mutex<State>

    init(count: Int) { state = Mutex(State(results: Array(repeating: nil, count: count), remaining: count)) }

    /// Resumes at once if every message was already reported.
    func setContinuation(_ continuation: CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>) {
        let ready = state.withLock { state -> [Result<KafkaDeliveryReport, KafkaError>]? in
            guard state.remaining > 0 else { return state.results.map { $0! } }
            state.continuation = continuation
            return nil
        }
        if let ready { continuation.resume(returning: ready) }
    }

    /// Records one message's outcome; true when it was the batch's last.
    func complete(index: Int, with result: Result<KafkaDeliveryReport, KafkaError>) -> Bool {
        var last = false
        let finished = state.withLock {
            state -> (CheckedContinuation<[Result<KafkaDeliveryReport, KafkaError>], Never>, [Result<KafkaDeliveryReport, KafkaError>])? in
            guard state.results[index] == nil else { return nil }
            state.results[index] = result
            state.remaining -= 1
            last = state.remaining == 0
            guard last, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.results.map { $0! })
        }
        if let (continuation, results) = finished { continuation.resume(returning: results) }
        return last
    }
}

/// Serves a client's callbacks (`rd_kafka_poll`) on a thread of its own.
final class PollThread: Sendable {
    private struct State {
        var stopRequested = false
        var finished = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    init(client: RdKafkaClient, name: String) {
        let thread = Thread { [self] in
            while !state.withLock({ $0.stopRequested }) { rd_kafka_poll(client.handle, 100) }
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.finished = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
        thread.name = name
        thread.start()
    }

    func requestStop() { state.withLock { $0.stopRequested = true } }

    /// Stops polling and waits for the thread to finish.
    func stop() async {
        requestStop()
        await withCheckedContinuation { continuation in
            let alreadyFinished = state.withLock { state -> Bool in
                if state.finished { return true }
                state.waiter = continuation
                return false
            }
            if alreadyFinished { continuation.resume() }
        }
    }
}

struct SendableHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
