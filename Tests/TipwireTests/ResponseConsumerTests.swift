import ChildProcesses
import Foundation
import HTTPTypes
import HummingbirdTesting
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
            stores: pipeline.fixture.stores, configuration: configuration,
            topics: .embedded(pipeline.broker, partitions: 3), logger: relayLogger)
    }

    /// A response as an agency's own client would produce it: CloudEvents binary mode, keyed by the task.
    static func response(_ agency: String, _ action: String, task: String, fields: String = "", id: String = UUID().uuidString)
        -> KafkaOutgoingMessage
    {
        let extra = fields.isEmpty ? "" : ", " + fields
        return KafkaOutgoingMessage(
            topic: "tipwire.responses.\(agency)", key: Array(task.utf8), data: Array(#"{"task_id": "\#(task)"\#(extra)}"#.utf8),
            attributes: CloudEventAttributes(id: id, source: "/agencies/\(agency)", type: "vn.tipwire.response.\(action).v1"))
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
            guard
                case .applied(_, let opened?) = try await pipeline.fixture.dependencies.stores.tasks.perform(
                    .transfer(to: PartyCode(rawValue: "cong-an-tp")!, reason: "Dấu hiệu tội phạm"), on: UUID(uuidString: ward)!, by: .coordinator,
                    actorName: "coordinator:thanh-tra-tp")
            else {
                Issue.record("the transfer to cong-an-tp was not applied")
                return
            }
            let police = opened.id
            let consumer = Self.consumer(pipeline)
            let producer = try KafkaProducer(
                configuration: KafkaProducerConfiguration(bootstrapServers: pipeline.broker.bootstrapServers, clientID: "agency-so-nnmt"),
                logger: quietLogger)
            defer { Task { await producer.shutdown() } }

            let acknowledge = Self.response("so-nnmt", "acknowledge", task: task, fields: #""note": "Đã tiếp nhận""#)
            var garbage = Self.response("so-nnmt", "start", task: task)
            garbage.value = [0xff, 0x00, 0x7b, 0x22]
            // so-nnmt's credentials passing a response off as the police's.
            var impostor = Self.response("so-nnmt", "start", task: task)
            impostor.headers = impostor.headers.map { $0.key == "ce_source" ? KafkaHeader(key: "ce_source", value: "/agencies/cong-an-tp") : $0 }
            // All keyed by the task, so all on one partition, in this order.
            let messages = [
                acknowledge,
                acknowledge,  // the same ce_id again: a no-op
                Self.response("so-nnmt", "start", task: police),  // a task of cong-an-tp on so-nnmt's topic
                garbage,
                impostor,
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
                try await eventually("the last response to be applied", timeout: .seconds(60)) {
                    try await Self.state(pipeline, task) == "in_progress"
                }
            }
            let events = try await pipeline.fixture.client.query(
                "SELECT kind FROM task_events WHERE task_id = \(UUID(uuidString: task)!) ORDER BY id"
            ).decodeColumn(String.self)
            #expect(events.filter { $0 == "acknowledged" }.count == 1)
            #expect(events.suffix(2) == ["acknowledged", "started"])
            #expect(try await Self.state(pipeline, police) == "assigned")
            #expect(try await pipeline.fixture.client.query("SELECT count(*) FROM applied_responses")[0].decode(column: 0, as: Int.self) == 2)

            let dlq = try pipeline.consumer([TopicName.responseDeadLetters(PartyCode(rawValue: "so-nnmt")!)])
            let letters = try await consume(dlq, count: 7)
            await dlq.close()
            #expect(
                letters.compactMap { $0.headerText("tw_reason") } == [
                    "unknown-task", "malformed-json", "source-mismatch", "unknown-type", "schema-violation", "illegal-transition", "unknown-task",
                ])
            for letter in letters {
                #expect(letter.headerText("tw_original_topic") == "tipwire.responses.so-nnmt")
                #expect(letter.headerText("tw_original_partition") != nil)
                #expect(letter.headerText("tw_original_offset").flatMap(Int.init) != nil)
                #expect(!(letter.headerText("tw_detail") ?? "").isEmpty)
            }
            // A task that exists but is another agency's reads exactly like one that does not.
            #expect(letters[0].headerText("tw_detail")?.hasPrefix("so-nnmt holds no task ") == true)
            #expect(letters[6].headerText("tw_detail")?.hasPrefix("so-nnmt holds no task ") == true)
            #expect(
                letters[5].headerText("tw_detail")
                    == "cannot acknowledge a task that is acknowledged; allowed now: start, request-info, extend, transfer, decline, resolve")
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
                for (action, fields) in [
                    ("acknowledge", ""), ("start", ""), ("extend", #""days": 30, "reason": "Phức tạp""#),
                    ("resolve", #""outcome": "referred_to_investigation", "summary": "Chuyển cơ quan điều tra""#),
                ] {
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

    /// The consumer process killed with SIGKILL during a burst of 10,000 responses, then restarted:
    /// every response applied exactly once.
    @Test func aConsumerKilledMidBurstAppliesEveryResponseExactlyOnce() async throws {
        let binary = try tipwireBinary()
        try await Pipeline.with { pipeline in
            for agency in ["so-nnmt", "ubnd-cau-giay"] { try pipeline.broker.createTopic("tipwire.responses.\(agency)", partitions: 3) }
            for agency in ["so-nnmt", "ubnd-cau-giay"] { try pipeline.broker.createTopic("tipwire.dlq.responses.\(agency)", partitions: 1) }
            var tasks: [(agency: String, id: String)] = []
            try await withThrowingTaskGroup(of: FindingView.self) { group in
                for _ in 0..<2500 { group.addTask { try await pipeline.submit() } }
                for try await view in group { tasks += view.tasks.map { ($0.agency.rawValue, $0.id) } }
            }
            #expect(tasks.count == 5000)
            // acknowledge, then start, per task (keyed by the task, so in order); 500 acknowledgements sent twice.
            var messages: [KafkaOutgoingMessage] = []
            var duplicates: [KafkaOutgoingMessage] = []
            for (index, task) in tasks.enumerated() {
                let acknowledge = Self.response(task.agency, "acknowledge", task: task.id)
                messages.append(acknowledge)
                messages.append(Self.response(task.agency, "start", task: task.id))
                if index % 10 == 0 { duplicates.append(acknowledge) }
            }
            let producer = try KafkaProducer(
                configuration: KafkaProducerConfiguration(bootstrapServers: pipeline.broker.bootstrapServers, clientID: "agencies"),
                logger: quietLogger)
            let sent = try await producer.send(messages + duplicates)
            #expect(sent.allSatisfy { if case .success = $0 { true } else { false } })
            await producer.shutdown()

            let schema = try await pipeline.fixture.client.query("SELECT current_schema()")[0].decode(column: 0, as: String.self)
            let arguments = [
                "responses", "--database-url", try TestDatabase.url() + "?options=-csearch_path%3D\(schema)", "--kafka-brokers",
                pipeline.broker.bootstrapServers, "--no-create-topics", "--log-format", "json", "--log-level", "error",
            ]
            func applied() async throws -> Int {
                try await pipeline.fixture.client.query("SELECT count(*) FROM applied_responses")[0].decode(column: 0, as: Int.self)
            }
            let killed = try startProcess(binary, arguments)
            try await eventually("the consumer to apply part of the burst", timeout: .seconds(90)) { try await applied() >= 1500 }
            kill(killed.processIdentifier, SIGKILL)
            killed.waitUntilExit()
            let whenKilled = try await applied()
            #expect(whenKilled < 10_000, "the consumer finished before it was killed; nothing was tested")

            let restarted = try startProcess(binary, arguments)
            defer {
                restarted.terminate()
                restarted.waitUntilExit()
            }
            try await eventually("every response to be applied", timeout: .seconds(240)) { try await applied() >= 10_000 }
            try await Task.sleep(for: .seconds(1))
            let counts = try await pipeline.fixture.client.query(
                """
                SELECT (SELECT count(*) FROM applied_responses), (SELECT count(*) FROM task_events WHERE kind IN ('acknowledged', 'started')),
                       (SELECT count(*) FROM tasks WHERE state = 'in_progress')
                """)[0].decode((Int, Int, Int).self)
            #expect(counts.0 == 10_000, "distinct ce_ids sent: 10,000")
            #expect(counts.1 == 10_000, "one event per distinct ce_id, duplicates and redeliveries included")
            #expect(counts.2 == 5000)
            print(
                "response consumer SIGKILL: killed after \(whenKilled) of 10,000 applied (+500 duplicates sent); after restart \(counts.0) applied, \(counts.1) events"
            )
        }
    }

    /// The issue's first acceptance point: an aiokafka producer (an independent client) drives a task from
    /// delivered to resolved, with an information request the newsroom answers over HTTP in between.
    @Test func anIndependentKafkaClientDrivesATaskToResolvedAndTheNewsroomHearsOfIt() async throws {
        try await Pipeline.with { pipeline in
            let fixture = pipeline.fixture
            let script = repositoryRoot.appendingPathComponent("Tests/TipwireTests/agency_client.py").path
            let bootstrap = pipeline.broker.bootstrapServers
            @Sendable func agency(_ action: String, _ task: String, _ fields: String = "{}") async throws {
                let result = try await runProgram("/usr/bin/env", ["python3", script, "respond", bootstrap, "thanh-tra-tp", action, task, fields])
                #expect(result.status == 0, "aiokafka \(action): \(result.errors)")
            }
            @Sendable func stateBecomes(_ state: String, _ task: String) async throws {
                try await eventually("the task to become \(state)", timeout: .seconds(60)) { try await Self.state(pipeline, task) == state }
            }
            let relay = pipeline.relay()
            let consumer = Self.consumer(pipeline)
            try await pipeline.whileRunning(relay) {
                try await pipeline.whileRunning(consumer) {
                    try await fixture.app().test(.router) { client in
                        // Procurement in Cầu Giấy: one task, for the City Inspectorate.
                        let (finding, tasks) = try await TaskLifecycleHTTPTests.submit(client, fixture, category: "procurement")
                        let task = try #require(tasks["thanh-tra-tp"])
                        try await stateBecomes("delivered", task)
                        try await agency("acknowledge", task, #"{"note": "Đã tiếp nhận đơn"}"#)
                        try await stateBecomes("acknowledged", task)
                        try await agency(
                            "request-info", task, #"{"questions": "Đề nghị cung cấp hồ sơ mời thầu", "documents_wanted": ["hồ sơ mời thầu"]}"#)
                        try await stateBecomes("info_requested", task)

                        let liaison = fixture.token("liaison", "tuoitre")
                        let open = try await client.send(.get("/v1/requests?state=open", token: liaison)).json()
                        let request = try #require((open["items"] as? [[String: Any]])?.first?["id"] as? String)
                        let answered = try await client.send(
                            .post(
                                "/v1/requests/\(request)/answer", token: liaison, json: #"{"answer": "Hồ sơ mời thầu đính kèm bản giấy"}"#, key: nil))
                        #expect(answered.status == .ok)
                        try await stateBecomes("in_progress", task)

                        try await agency(
                            "resolve", task, #"{"outcome": "substantiated", "summary": "Gói thầu bị chia nhỏ sai quy định; đã kiến nghị xử lý"}"#)
                        try await stateBecomes("resolved", task)
                        let update = try await runProgram(
                            "/usr/bin/env", ["python3", script, "await", bootstrap, "tipwire.requests.tuoitre", finding, EventType.findingUpdate])
                        #expect(update.status == 0, "\(update.errors)")
                        #expect(update.output.contains(#""outcome":"substantiated""#))
                        let view = try await client.send(.get("/v1/findings/\(finding)", token: liaison)).json()
                        #expect(view["accounted_for"] as? Bool == true)
                        let events = try await client.send(.get("/v1/tasks/\(task)", token: liaison)).json()["events"] as? [[String: Any]]
                        #expect(
                            events?.compactMap { $0["kind"] as? String } == [
                                "assigned", "delivered", "acknowledged", "info_requested", "info_answered", "resolved",
                            ])
                    }
                }
            }
        }
    }

    @Test func anAgencyAnswersANewsroomsQuestionOverKafka() async throws {
        try await Pipeline.with { pipeline in
            let view = try await pipeline.submit()
            let requests = pipeline.fixture.dependencies.stores.requests
            guard
                case .asked(let asked) = try await requests.ask(
                    finding: UUID(uuidString: view.finding.id)!, agency: PartyCode(rawValue: "so-nnmt"), questions: "Đã xử lý đến đâu?",
                    by: PartyCode(rawValue: "tuoitre")!, actorName: "liaison:tuoitre", idempotency: .unclaimed
                ).outcome
            else {
                Issue.record("the question was not asked")
                return
            }
            let request = try #require(asked.first).id
            func answer(_ requestID: String, id: String = UUID().uuidString) -> KafkaOutgoingMessage {
                KafkaOutgoingMessage(
                    topic: "tipwire.responses.so-nnmt", key: Array(requestID.utf8),
                    data: Array(#"{"request_id": "\#(requestID)", "answer": "Đang xác minh tại hiện trường"}"#.utf8),
                    attributes: CloudEventAttributes(id: id, source: "/agencies/so-nnmt", type: ResponseTypes.answer))
            }
            let first = answer(request)
            let producer = try KafkaProducer(
                configuration: KafkaProducerConfiguration(bootstrapServers: pipeline.broker.bootstrapServers, clientID: "agency-so-nnmt"),
                logger: quietLogger)
            defer { Task { await producer.shutdown() } }
            for message in [first, first, answer(UUID().uuidString.lowercased())] { _ = try await producer.send(message) }
            try await pipeline.whileRunning(Self.consumer(pipeline)) {
                try await eventually("the answer to be applied", timeout: .seconds(60)) {
                    try await pipeline.fixture.client.query("SELECT state FROM info_requests WHERE id = \(UUID(uuidString: request)!)")[0]
                        .decode(column: 0, as: String.self) == "answered"
                }
                let dlq = try pipeline.consumer([TopicName.responseDeadLetters(PartyCode(rawValue: "so-nnmt")!)])
                let letters = try await consume(dlq, count: 1)
                await dlq.close()
                #expect(letters.compactMap { $0.headerText("tw_reason") } == ["unknown-request"])
            }
            #expect(try await pipeline.fixture.client.query("SELECT count(*) FROM applied_responses")[0].decode(column: 0, as: Int.self) == 1)
            let update = try await pipeline.fixture.client.query(
                "SELECT topic FROM outbox WHERE ce_type = 'vn.tipwire.request.answered.v1'"
            ).decodeColumn(String.self)
            #expect(update == ["tipwire.requests.tuoitre"])
        }
    }
}
