import ChildProcesses
import Foundation
import Kafka
import Postgres
import TestSupport
import Testing
import TipwireAPI
import TipwireCore
import TipwirePipeline
import TipwireStore

@Suite("Outbox relay to the agencies' topics", .timeLimit(.minutes(5)))
struct RelayTests {
    @Test func eachResponsibleAgencyReceivesOneTaskAssignedCloudEventKeyedByTheFinding() async throws {
        try await Pipeline.with { pipeline in
            let relay = pipeline.relay()
            let view = try await pipeline.whileRunning(relay) {
                let view = try await pipeline.submit()
                try await pipeline.waitUntilSent()
                return view
            }
            let consumer = try pipeline.consumer(["tipwire.tasks.so-nnmt", "tipwire.tasks.ubnd-cau-giay", "tipwire.findings"])
            let messages = try await consume(consumer, count: 3)
            await consumer.close()
            #expect(Set(messages.map(\.topic)) == ["tipwire.tasks.so-nnmt", "tipwire.tasks.ubnd-cau-giay", "tipwire.findings"])
            for message in messages {
                #expect(message.keyString == view.finding.id)
                #expect(message.headerText("ce_specversion") == "1.0")
                #expect(message.headerText("ce_source") == "/tipwire")
                #expect(message.headerText("content-type") == "application/json")
                let expectedType = message.topic == "tipwire.findings" ? EventType.findingReceived : EventType.taskAssigned
                #expect(message.headerText("ce_type") == expectedType)
            }
            let assigned = try #require(messages.first { $0.topic == "tipwire.tasks.so-nnmt" })
            let data = try TipwireJSON.decoder().decode(TaskAssignedData.self, from: Data(assigned.value))
            #expect(data.task.agency.rawValue == "so-nnmt")
            #expect(assigned.headerText("ce_subject") == "tasks/\(data.task.id)")
            #expect(data.finding.id == view.finding.id)
            try await expectValidEvents(messages)

            // The delivery is recorded: the tasks moved to delivered, each with one delivered event.
            let states = try await pipeline.fixture.client.query("SELECT state, delivered_at IS NOT NULL FROM tasks").decode((String, Bool).self)
            #expect(states.allSatisfy { $0 == ("delivered", true) })
            #expect(
                try await pipeline.fixture.client.query("SELECT count(*) FROM task_events WHERE kind = 'delivered'")[0]
                    .decode(column: 0, as: Int.self) == 2)
        }
    }

    @Test func outcomesReachTheNewsroomsTopicAsFindingUpdates() async throws {
        try await Pipeline.with { pipeline in
            let view = try await pipeline.submit()
            let tasks = pipeline.fixture.dependencies.stores.tasks
            let ward = try #require(view.tasks.first { $0.agency.rawValue == "ubnd-cau-giay" }).id
            let department = try #require(view.tasks.first { $0.agency.rawValue == "so-nnmt" }).id
            let wardActor = TaskActor.agency(PartyCode(rawValue: "ubnd-cau-giay")!)
            for action in [TaskAction.acknowledge(note: nil), .resolve(outcome: .substantiated, summary: "Đã xử lý")] {
                guard case .applied = try await tasks.perform(action, on: UUID(uuidString: ward)!, by: wardActor, actorName: "agency:ubnd-cau-giay")
                else {
                    Issue.record("\(action.name) was not applied")
                    return
                }
            }
            // The department asks the newsroom, which answers; then it transfers the task.
            let departmentActor = TaskActor.agency(PartyCode(rawValue: "so-nnmt")!)
            let departmentTask = UUID(uuidString: department)!
            _ = try await tasks.perform(.acknowledge(note: nil), on: departmentTask, by: departmentActor, actorName: "agency:so-nnmt")
            _ = try await tasks.perform(
                .requestInfo(questions: "Đề nghị cung cấp biên bản", documentsWanted: ["biên bản"]), on: departmentTask, by: departmentActor,
                actorName: "agency:so-nnmt")
            let requests = pipeline.fixture.dependencies.stores.requests
            let request = try #require(
                try await requests.list(RequestFilter(), for: .newsroom(PartyCode(rawValue: "tuoitre")!)).items.first)
            let answer = try await requests.answer(
                UUID(uuidString: request.id)!, answer: "Đã gửi", documentIDs: [], declined: false, by: .newsroom(PartyCode(rawValue: "tuoitre")!),
                actorName: "liaison:tuoitre")
            guard case .answered = answer else {
                Issue.record("the answer was not applied: \(answer)")
                return
            }
            _ = try await tasks.perform(
                .transfer(to: PartyCode(rawValue: "so-xay-dung")!, reason: "Thẩm quyền của Sở Xây dựng"), on: departmentTask,
                by: departmentActor, actorName: "agency:so-nnmt")
            try await pipeline.whileRunning(pipeline.relay()) { try await pipeline.waitUntilSent() }
            let consumer = try pipeline.consumer(["tipwire.requests.tuoitre", "tipwire.tasks.so-xay-dung", "tipwire.tasks.so-nnmt"])
            let messages = try await consume(consumer, count: 6)
            await consumer.close()
            #expect(messages.filter { $0.headerText("ce_type") == EventType.findingUpdate }.count == 2)
            #expect(messages.filter { $0.headerText("ce_type") == EventType.requestCreated }.count == 1)
            #expect(messages.filter { $0.headerText("ce_type") == EventType.requestAnswered }.count == 1)
            #expect(messages.allSatisfy { $0.keyString == view.finding.id })
            try await expectValidEvents(messages)
        }
    }

    /// The issue's fault: every broker down for 30 s while findings keep arriving.
    @Test func findingsAcceptedWhileAllBrokersAreDownAreDeliveredOnceTheyReturn() async throws {
        try await Pipeline.with { pipeline in
            let relay = pipeline.relay(batchSize: 200)
            let accepted = try await pipeline.whileRunning(relay) { () async throws -> [FindingView] in
                var accepted = [try await pipeline.submit()]
                try await pipeline.waitUntilSent()
                try pipeline.broker.setAllBrokers(up: false)
                let outageEnds = ContinuousClock.now + .seconds(30)
                while ContinuousClock.now < outageEnds {
                    accepted.append(try await pipeline.submit())
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(try await pipeline.unsent() > 0, "nothing was waiting while the brokers were down")
                try pipeline.broker.setAllBrokers(up: true)
                try await pipeline.waitUntilSent(timeout: .seconds(120))
                return accepted
            }
            let topics = ["tipwire.tasks.so-nnmt", "tipwire.tasks.ubnd-cau-giay"]
            let consumer = try pipeline.consumer(topics)
            let messages = try await consume(consumer, count: accepted.count * 2, timeout: .seconds(60))
            await consumer.close()
            let ids = Set(messages.compactMap { $0.headerText("ce_id") })
            let outboxIDs = Set(
                try await pipeline.fixture.client.query("SELECT ce_id FROM outbox_deliveries WHERE ce_type = \(EventType.taskAssigned)")
                    .decodeColumn(UUID.self).map(\.lowercased))
            #expect(ids == outboxIDs, "every accepted finding's tasks are on their topics")
            try await expectValidEvents(messages)
            let delivered = try await pipeline.fixture.client.query(
                "SELECT count(*), count(DISTINCT task_id) FROM task_events WHERE kind = 'delivered'")[0].decode((Int, Int).self)
            #expect(delivered.0 == accepted.count * 2)
            #expect(delivered.0 == delivered.1, "a task's delivery is recorded once")
        }
    }

    @Test func aStandbyRelayTakesOverWithinSecondsAndOnlyOneIsActive() async throws {
        try await Pipeline.with { pipeline in
            let first = pipeline.relay()
            let second = pipeline.relay()
            let firstTask = Task { try await first.run() }
            _ = try await pipeline.submit()
            try await pipeline.waitUntilSent()
            let secondTask = Task { try await second.run() }
            defer { secondTask.cancel() }
            for _ in 0..<5 { _ = try await pipeline.submit() }
            try await pipeline.waitUntilSent()
            #expect(try await ServiceLock.relay.holders(on: pipeline.fixture.client) == 1)

            firstTask.cancel()
            _ = await firstTask.result
            let start = ContinuousClock.now
            _ = try await pipeline.submit()
            try await pipeline.waitUntilSent(timeout: .seconds(10))
            #expect(ContinuousClock.now - start < .seconds(5))
            secondTask.cancel()
            _ = await secondTask.result

            let consumer = try pipeline.consumer(["tipwire.tasks.so-nnmt"])
            let messages = try await consume(consumer, count: 7)
            await consumer.close()
            #expect(Set(messages.compactMap { $0.headerText("ce_id") }).count == 7)
            try await expectValidEvents(messages)
        }
    }

    /// The relay process killed with SIGKILL mid-batch and restarted: everything arrives at least once,
    /// and consumers deduplicate by `ce_id`.
    @Test func aRelayKilledMidBatchLosesNothingAfterRestart() async throws {
        let binary = try tipwireBinary()
        try await Pipeline.with { pipeline in
            for topic in ["tipwire.tasks.so-nnmt", "tipwire.tasks.ubnd-cau-giay", "tipwire.findings"] {
                try pipeline.broker.createTopic(topic, partitions: 3)
            }
            let findings = 2000
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<findings { group.addTask { _ = try await pipeline.submit() } }
                try await group.waitForAll()
            }
            let total = findings * 3
            #expect(try await pipeline.unsent() == total)
            let schema = try await pipeline.fixture.client.query("SELECT current_schema()")[0].decode(column: 0, as: String.self)
            let url = try TestDatabase.url() + "?options=-csearch_path%3D\(schema)"
            let arguments = [
                "relay", "--database-url", url, "--kafka-brokers", pipeline.broker.bootstrapServers, "--no-create-topics", "--relay-batch", "100",
                "--log-format", "json", "--log-level", "warning",
            ]
            let killed = try startProcess(binary, arguments)
            try await eventually("the relay to deliver part of the outbox", timeout: .seconds(60)) {
                try await pipeline.unsent() < total - 300
            }
            kill(killed.processIdentifier, SIGKILL)
            killed.waitUntilExit()
            let left = try await pipeline.unsent()
            #expect(left > 0, "the relay finished before it was killed; nothing was tested")

            let restarted = try startProcess(binary, arguments)
            defer {
                restarted.terminate()
                restarted.waitUntilExit()
            }
            try await pipeline.waitUntilSent(timeout: .seconds(120))

            let consumer = try pipeline.consumer(["tipwire.tasks.so-nnmt", "tipwire.tasks.ubnd-cau-giay", "tipwire.findings"])
            let outboxIDs = Set(
                try await pipeline.fixture.client.query("SELECT ce_id FROM outbox_deliveries").decodeColumn(UUID.self).map(\.lowercased))
            #expect(outboxIDs.count == total, "every event has one delivery record")
            let (seen, messages) = try await readDistinctIDs(consumer, until: outboxIDs)
            let received = messages.count
            try await expectValidEvents(messages)
            await consumer.close()
            #expect(seen == outboxIDs)
            let delivered = try await pipeline.fixture.client.query(
                "SELECT count(*), count(DISTINCT task_id) FROM task_events WHERE kind = 'delivered'")[0].decode((Int, Int).self)
            #expect(delivered.0 == findings * 2)
            #expect(delivered.0 == delivered.1)
            print("relay SIGKILL: \(total) events, \(left) unsent when killed; consumers saw \(received)+ messages, \(seen.count) distinct ce_id")
        }
    }
}

/// The `tipwire` executable beside the test bundle (swift test builds every product).
func tipwireBinary() throws -> String {
    let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for candidate in [bundle, bundle.deletingLastPathComponent()] {
        let path = candidate.appendingPathComponent("tipwire").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    let fallback = repositoryRoot.appendingPathComponent(".build/debug/tipwire").path
    guard FileManager.default.isExecutableFile(atPath: fallback) else {
        throw TestSetupError("no tipwire executable beside \(CommandLine.arguments[0]) or at \(fallback); run `swift build` first")
    }
    return fallback
}

/// Reads until every id in `expected` was seen as a `ce_id` (or 60 s pass). Returns the ids seen and the messages.
func readDistinctIDs(_ consumer: KafkaConsumer, until expected: Set<String>) async throws -> (Set<String>, [KafkaMessage]) {
    try await withThrowingTaskGroup(of: (Set<String>, [KafkaMessage]).self) { group in
        group.addTask {
            var seen = Set<String>()
            var received: [KafkaMessage] = []
            for try await message in consumer.messages {
                received.append(message)
                if let id = message.headerText("ce_id") { seen.insert(id) }
                if seen.isSuperset(of: expected) { break }
            }
            return (seen, received)
        }
        group.addTask {
            try await Task.sleep(for: .seconds(60))
            throw Timeout(description: "not every ce_id arrived within 60 s")
        }
        let result = try await group.next()!
        group.cancelAll()
        return result
    }
}

func startProcess(_ executable: String, _ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = childEnvironment()
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.standardError
    try process.run()
    return process
}
