import ChildProcesses
import Foundation
import Kafka
import TestSupport
import Testing

/// Checks our producer and consumer against an independent client: Python's aiokafka.
@Suite("Interoperability with aiokafka", .timeLimit(.minutes(3)))
struct InteropTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("aiokafka_interop.py").path

    struct Received: Decodable {
        var partition: Int
        var offset: Int
        var key: String?
        var value: String
        var headers: [String: String]
    }

    private func python(_ arguments: [String]) async throws -> String {
        let result = try await runProgram("/usr/bin/env", ["python3", Self.script] + arguments)
        guard result.status == 0 else {
            Issue.record("aiokafka_interop.py failed (is aiokafka installed? deploy/local/test installs it): \(result.errors)")
            throw Timeout(description: "python failed")
        }
        return result.output
    }

    @Test("aiokafka consumes with a consumer group what our producer wrote, headers included")
    func pythonReadsOurs() async throws {
        let broker = try EmbeddedBroker(logger: quietLogger)
        try broker.createTopic("tipwire.tasks.so-nnmt", partitions: 3)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: broker.bootstrapServers), logger: quietLogger)
        let sent = (0..<30).map {
            KafkaOutgoingMessage(
                topic: "tipwire.tasks.so-nnmt", key: "finding-\($0 % 5)", value: "{\"n\":\($0),\"title\":\"Đất đai\"}",
                headers: [KafkaHeader(key: "ce_id", value: "evt-\($0)"), KafkaHeader(key: "ce_type", value: "vn.tipwire.task.assigned.v1")])
        }
        _ = try await producer.send(sent).map { try $0.get() }
        await producer.shutdown()

        let output = try await python([broker.bootstrapServers, "consume", "tipwire.tasks.so-nnmt", "agency-so-nnmt", "30"])
        let received = try output.split(separator: "\n").map { try JSONDecoder().decode(Received.self, from: Data($0.utf8)) }
        #expect(received.count == 30)
        #expect(Set(received.map(\.value)) == Set(sent.map { String(decoding: $0.value, as: UTF8.self) }))
        for message in received {
            let n = try #require(message.value.split(separator: ":")[1].split(separator: ",").first.flatMap { Int($0) })
            #expect(message.key == "finding-\(n % 5)")
            #expect(message.headers["ce_id"] == "evt-\(n)")
            #expect(message.headers["ce_type"] == "vn.tipwire.task.assigned.v1")
        }
    }

    @Test("our consumer reads what aiokafka wrote, headers included")
    func weReadPython() async throws {
        let broker = try EmbeddedBroker(logger: quietLogger)
        try broker.createTopic("tipwire.responses.so-nnmt", partitions: 2)
        _ = try await python([broker.bootstrapServers, "produce", "tipwire.responses.so-nnmt", "20"])
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: "tipwire-responses"), logger: quietLogger)
        try consumer.subscribe(topics: ["tipwire.responses.so-nnmt"])
        let received = try await consume(consumer, count: 20)
        await consumer.close()
        #expect(Set(received.map(\.valueString)) == Set((0..<20).map { "from-python-\($0)" }))
        for message in received {
            let index = try #require(Int(message.valueString.replacingOccurrences(of: "from-python-", with: "")))
            #expect(message.keyString == "key-\(index % 3)")
            #expect(message.header("ce_id")?.stringValue == "py-\(index)")
            #expect(message.header("ce_source")?.stringValue == "aiokafka")
        }
    }
}
