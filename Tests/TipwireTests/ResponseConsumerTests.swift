import Foundation
import Kafka
import Postgres
import TestSupport
import Testing
import TipwireAPI
import TipwireCore
import TipwirePipeline
import TipwireStore

@Suite("Agencies' responses over Kafka", .timeLimit(.minutes(5)))
struct ResponseConsumerTests {
    static func consumer(_ pipeline: Pipeline) -> ResponseConsumer {
        let configuration = ResponseConsumerConfiguration(
            consumer: consumerConfiguration(pipeline.broker, group: "tipwire-responses-\(UUID().uuidString.prefix(8))"),
            producer: KafkaProducerConfiguration(
                bootstrapServers: pipeline.broker.bootstrapServers, clientID: "test-dead-letters", settings: EmbeddedBroker.producerSettings),
            retryBackoff: .milliseconds(100))
        return ResponseConsumer(
            client: pipeline.fixture.client, tasks: pipeline.fixture.dependencies.tasks, configuration: configuration,
            topics: .embedded(pipeline.broker, partitions: 3), logger: relayLogger)
    }

    /// A response as an agency's own client would produce it: CloudEvents binary mode, keyed by the task.
    static func response(_ agency: String, _ action: String, task: String, fields: String = "", id: String = UUID().uuidString) -> KafkaOutgoingMessage {
        let extra = fields.isEmpty ? "" : ", " + fields
        return KafkaOutgoingMessage(
            topic: "tipwire.responses.\(agency)", key: Array(task.utf8), value: Array(#"{"task_id": "\#(task)"\#(extra)}"#.utf8),
            headers: [
                KafkaHeader(key: "ce_specversion", value: "1.0"), KafkaHeader(key: "ce_id", value: id),
                KafkaHeader(key: "ce_source", value: "/agencies/\(agency)"), KafkaHeader(key: "ce_type", value: "vn.tipwire.response.\(action).v1"),
                KafkaHeader(key: "content-type", value: "application/json"),
            ])
    }

    static func state(_ pipeline: Pipeline, _ task: String) async throws -> String {
        try await pipeline.fixture.client.query("SELECT state FROM tasks WHERE id = \(UUID(uuidString: task)!)")[0].decode(column: 0, as: String.self)
    }

    @Test func responsesDriveTheLifecycleOnceEachAndBadOnesAreDeadLetteredWithoutStallingThePartition() async throws {
        try await Pipeline.with { pipeline in
            let view = try await pipeline.submit()
            let task = try #require(view.tasks.first { $0.agency.rawValue == "so-nnmt" }).id
            // A task of cong-an-tp: the coordinator moves the ward's task there.
            let ward = try #require(view.tasks.first { $0.agency.rawValue == "ubnd-cau-giay" }).id
            guard case .applied(_, let opened?) = try await pipeline.fixture.dependencies.tasks.perform(
                .transfer(to: PartyCode(rawValue: "cong-an-tp")!, reason: "Dấu hiệu tội phạm"), on: UUID(uuidString: ward)!, by: .coordinator,
                actorName: "coordinator:thanh-tra-tp")
            else {
                Issue.record("the transfer to cong-an-tp was not applied")
                return
            }
            let police = opened.id
            let consumer = Self.consumer(pipeline)
            let producer = try KafkaProducer(
                configuration: KafkaProducerConfiguration(bootstrapServers: pipeline.broker.bootstrapServers, clientID: "agency-so-nnmt"), logger: quietLogger)
            defer { Task { await producer.shutdown() } }

            let acknowledge = Self.response("so-nnmt", "acknowledge", task: task, fields: #""note": "Đã tiếp nhận""#)
            var garbage = Self.response("so-nnmt", "start", task: task)
            garbage.value = [0xff, 0x00, 0x7b, 0x22]
            // All keyed by the task, so all on one partition, in this order.
            let messages = [
                acknowledge,
                acknowledge,  // the same ce_id again: a no-op
                Self.response("so-nnmt", "start", task: police),  // a task of cong-an-tp on so-nnmt's topic
                garbage,
                Self.response("so-nnmt", "escalate", task: task),
                Self.response("so-nnmt", "resolve", task: task, fields: #""outcome": "maybe", "summary": "x""#),
                Self.response("so-nnmt", "acknowledge", task: task),  // acknowledged already: illegal
                Self.response("so-nnmt", "start", task: UUID().uuidString.lowercased()),
                Self.response("so-nnmt", "start", task: task),  // the next valid message is still applied
            ].map { message -> KafkaOutgoingMessage in
                var message = message
                message.key = Array(task.utf8)
                return message
            }
            for message in messages { _ = try await producer.send(message) }

            try await pipeline.whileRunning(consumer) {
                try await eventually("the last response to be applied", timeout: .seconds(60)) { try await Self.state(pipeline, task) == "in_progress" }
            }
            let events = try await pipeline.fixture.client.query(
                "SELECT kind FROM task_events WHERE task_id = \(UUID(uuidString: task)!) ORDER BY id").decodeColumn(String.self)
            #expect(events.filter { $0 == "acknowledged" }.count == 1)
            #expect(events.suffix(2) == ["acknowledged", "started"])
            #expect(try await Self.state(pipeline, police) == "assigned")
            #expect(try await pipeline.fixture.client.query("SELECT count(*) FROM applied_responses")[0].decode(column: 0, as: Int.self) == 2)

            let dlq = try pipeline.consumer([TopicName.responseDeadLetters])
            let letters = try await consume(dlq, count: 6)
            await dlq.close()
            #expect(letters.compactMap { $0.headerText("tw_reason") } == [
                "foreign-task", "malformed-json", "unknown-type", "schema-violation", "illegal-transition", "unknown-task",
            ])
            for letter in letters {
                #expect(letter.headerText("tw_original_topic") == "tipwire.responses.so-nnmt")
                #expect(letter.headerText("tw_original_partition") != nil)
                #expect(letter.headerText("tw_original_offset").flatMap(Int.init) != nil)
                #expect(!(letter.headerText("tw_detail") ?? "").isEmpty)
            }
            #expect(letters[4].headerText("tw_detail") == "cannot acknowledge a task that is acknowledged; allowed now: start, request-info, extend, transfer, decline, resolve")
        }
    }

    @Test func anAgencyResolvesItsTaskEntirelyOverKafka() async throws {
        try await Pipeline.with { pipeline in
            let view = try await pipeline.submit(category: "construction")
            let task = try #require(view.tasks.first { $0.agency.rawValue == "so-xay-dung" }).id
            let consumer = Self.consumer(pipeline)
            let producer = try KafkaProducer(
                configuration: KafkaProducerConfiguration(bootstrapServers: pipeline.broker.bootstrapServers, clientID: "agency-so-xay-dung"),
                logger: quietLogger)
            defer { Task { await producer.shutdown() } }
            try await pipeline.whileRunning(consumer) {
                for (action, fields) in [("acknowledge", ""), ("start", ""), ("extend", #""days": 30, "reason": "Phức tạp""#),
                    ("resolve", #""outcome": "referred_to_investigation", "summary": "Chuyển cơ quan điều tra""#)]
                {
                    _ = try await producer.send(Self.response("so-xay-dung", action, task: task, fields: fields))
                }
                try await eventually("the task to be resolved", timeout: .seconds(60)) { try await Self.state(pipeline, task) == "resolved" }
            }
            let outcome = try await pipeline.fixture.client.query("SELECT outcome, extensions FROM tasks WHERE id = \(UUID(uuidString: task)!)")[0]
                .decode((String?, Int).self)
            #expect(outcome.0 == "referred_to_investigation")
            #expect(outcome.1 == 1)
        }
    }
}
