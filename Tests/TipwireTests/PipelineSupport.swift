import ChildProcesses
import Foundation
import Kafka
import Logging
import Postgres
import TestSupport
import Testing
import TipwireAPI
import TipwireCore
import TipwirePipeline
import TipwireStore

/// An embedded broker and a relay over a fixture's database.
struct Pipeline: Sendable {
    let fixture: Fixture
    let broker: EmbeddedBroker

    static func with<T>(maxConnections: Int = 8, _ body: (Pipeline) async throws -> T) async throws -> T {
        try await Fixture.with(maxConnections: maxConnections) { fixture in
            let broker = try EmbeddedBroker(brokers: 1, logger: quietLogger)
            defer { broker.shutdown() }
            return try await body(Pipeline(fixture: fixture, broker: broker))
        }
    }

    func relay(batchSize: Int = 500, standbyRetry: Duration = .milliseconds(200), clusterCheck: Duration = .seconds(60)) -> OutboxRelay {
        let producer = KafkaProducerConfiguration(
            bootstrapServers: broker.bootstrapServers, clientID: "test-relay", deliveryTimeout: .seconds(120),
            settings: EmbeddedBroker.producerSettings)
        return OutboxRelay(
            stores: fixture.stores,
            configuration: OutboxRelayConfiguration(
                producer: producer, batchSize: batchSize, idlePoll: .milliseconds(200), standbyRetry: standbyRetry, clusterCheck: clusterCheck),
            topics: .embedded(broker, partitions: 3), logger: relayLogger)
    }

    /// Runs `body` while `relay` runs, then stops the relay.
    func whileRunning<T: Sendable>(_ relay: OutboxRelay, _ body: () async throws -> T) async throws -> T {
        try await whileRunning({ try await relay.run() }, body)
    }

    /// Runs `body` while the response consumer runs, then stops it.
    func whileRunning<T: Sendable>(_ consumer: ResponseConsumer, _ body: () async throws -> T) async throws -> T {
        try await whileRunning({ try await consumer.run() }, body)
    }

    /// Runs `body` while `service` runs, then cancels the service and waits for it to stop.
    func whileRunning<T: Sendable>(_ service: @escaping @Sendable () async throws -> Void, _ body: () async throws -> T) async throws -> T {
        let task = Task { try await service() }
        defer { task.cancel() }
        let value = try await body()
        task.cancel()
        _ = await task.result
        return value
    }

    /// Submits a finding straight to the store (as the API would after parsing), as `tuoitre`.
    func submit(category: String = "land", jurisdiction: String = "cau-giay", key: String = UUID().uuidString) async throws -> FindingView {
        let submission = FindingSubmission(
            articleURL: "https://tuoitre.vn/bai-\(key).htm", title: "Sai phạm đất đai \(key)", publishedAt: Date(timeIntervalSinceNow: -3600),
            summary: "Tóm tắt", category: category, jurisdiction: PartyCode(rawValue: jurisdiction)!)
        let outcome = try await fixture.dependencies.stores.findings.submit(
            FindingRequest(
                newsroom: PartyCode(rawValue: "tuoitre")!, actor: "liaison:tuoitre", idempotencyKey: key, requestSHA256: Array(key.utf8),
                submission: submission))
        guard case .created(let view, _) = outcome else { throw TestSetupError("submission was not created: \(outcome)") }
        return view
    }

    func unsent() async throws -> Int {
        try await fixture.client.query("SELECT count(*) FROM outbox")[0].decode(column: 0, as: Int.self)
    }

    func waitUntilSent(timeout: Duration = .seconds(60)) async throws {
        try await eventually("the outbox to drain", timeout: timeout) { try await unsent() == 0 }
    }

    /// A producer for the embedded broker, for what a test asks the cluster itself.
    func producer() throws -> KafkaProducer {
        try KafkaProducer(
            configuration: KafkaProducerConfiguration(bootstrapServers: broker.bootstrapServers, settings: EmbeddedBroker.producerSettings),
            logger: quietLogger)
    }

    /// How many messages the topic's partitions hold (`partitions` of them, as the test relay makes them).
    func messageCount(_ topic: String, partitions: Int32 = 3) async throws -> Int64 {
        let producer = try producer()
        var total: Int64 = 0
        for partition in 0..<partitions { total += try await producer.highWatermark(topic: topic, partition: partition) }
        await producer.shutdown(timeout: .seconds(5))
        return total
    }

    /// A consumer in a fresh group, from the beginning of `topics`.
    func consumer(_ topics: [String]) throws -> KafkaConsumer {
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(broker, group: "test-\(UUID().uuidString.prefix(8))"), logger: quietLogger)
        try consumer.subscribe(topics: topics)
        return consumer
    }
}

/// Checks events with Python's jsonschema against `schemas/events` (and their CloudEvents headers).
func expectValidEvents(_ messages: [KafkaMessage], sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let lines = try messages.map { message in
        var headers: [String: String] = [:]
        for header in message.headers { headers[header.key] = header.stringValue ?? "" }
        let object: [String: Any] = ["topic": message.topic, "key": message.keyString ?? "", "headers": headers, "value": message.valueString]
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }
    let file = NSTemporaryDirectory() + "tipwire-events-\(UUID().uuidString).jsonl"
    try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: file) }
    let script = repositoryRoot.appendingPathComponent("Tests/TipwireTests/check_events.py").path
    let result = try await runProgram("/usr/bin/env", ["python3", script, repositoryRoot.appendingPathComponent("schemas/events").path, file])
    #expect(result.status == 0, "jsonschema: \(result.output) \(result.errors)", sourceLocation: sourceLocation)
}

extension KafkaMessage {
    func headerText(_ name: String) -> String? { header(name)?.stringValue }
}

let relayLogger: Logger = {
    var logger = Logger(label: "test.relay")
    logger.logLevel = ProcessInfo.processInfo.environment["TIPWIRE_TEST_RELAY_LOG"] == nil ? .error : .debug
    return logger
}()
