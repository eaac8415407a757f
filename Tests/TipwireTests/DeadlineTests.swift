import Foundation
import Kafka
import Postgres
import Synchronization
import TestSupport
import Testing
import TipwireAPI
import TipwireCore
import TipwirePipeline
import TipwireStore

/// A clock the test moves by hand: the engine reads it, so days pass in milliseconds.
final class ManualClock: Sendable {
    private let time: Mutex<Date>

    init(_ start: Date = Date()) { time = Mutex(start) }

    var now: Date { time.withLock { $0 } }
    func set(_ date: Date) { time.withLock { $0 = date } }
    var engineClock: EngineClock { EngineClock { [self] in now } }
}

/// Equal to within a millisecond: times go through PostgreSQL's microseconds.
func same(_ a: Date?, _ b: Date?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return abs(a.timeIntervalSince(b)) < 0.001
}

/// One clock row as the tests read it.
struct ClockRecord {
    var id: Int64
    var stage: String
    var holder: String
    var state: String
    var clock: DutyClock
}

extension Pipeline {
    func engine(_ clock: ManualClock, instance: String = "test-engine", batchSize: Int = 500) -> DeadlineEngine {
        DeadlineEngine(
            stores: fixture.stores,
            configuration: DeadlineEngineConfiguration(
                batchSize: batchSize, idlePoll: .seconds(5), standbyRetry: .milliseconds(100), instance: instance),
            clock: clock.engineClock, logger: relayLogger)
    }

    /// Moves the clock to `time` and waits until the engine has finished a pass at or after it.
    func advance(_ clock: ManualClock, to time: Date, _ engine: DeadlineEngine) async throws {
        clock.set(time)
        engine.wake()
        try await eventually("a deadline pass at \(formatTimestamp(time))", timeout: .seconds(20)) {
            guard let last = engine.lastPass else { return false }
            return last >= time
        }
    }

    func clocks(of task: String) async throws -> [ClockRecord] {
        try await fixture.client.query(
            """
            SELECT id, stage, holder_kind || ':' || holder_code, state, started_at, due_at, reminder_percent, step_working_days
            FROM deadlines WHERE task_id = \(UUID(uuidString: task)!) ORDER BY id
            """
        ).decode((Int64, String, String, String, Date, Date, Int, Int).self).map { id, stage, holder, state, started, due, percent, step in
            ClockRecord(
                id: id, stage: stage, holder: holder, state: state,
                clock: DutyClock(startedAt: started, dueAt: due, reminderPercent: percent, stepWorkingDays: step))
        }
    }

    /// The rungs raised on `task`'s clocks: (stage, rung, rung_at).
    func rungs(of task: String) async throws -> [(stage: String, rung: Int, at: Date)] {
        try await fixture.client.query(
            """
            SELECT d.stage, r.rung, r.rung_at FROM deadline_rungs r JOIN deadlines d ON d.id = r.deadline_id
            WHERE d.task_id = \(UUID(uuidString: task)!) ORDER BY r.rung_at, r.rung
            """
        ).decode((String, Int, Date).self).map { ($0, $1, $2) }
    }

    func calendar() async throws -> WorkingCalendar { try await CalendarStore(client: fixture.client).load() }

    /// A finding routed to so-nnmt and ubnd-cau-giay, relayed to Kafka so both tasks are delivered. Returns the tasks by agency.
    func deliveredFinding() async throws -> [String: String] {
        let view = try await submit()
        try await waitUntilSent()
        return Dictionary(uniqueKeysWithValues: view.tasks.map { ($0.agency.rawValue, $0.id) })
    }

    /// Runs `body` while the outbox relay and an engine on a clock the test moves by hand run, then stops both.
    func withRelayAndEngine<T: Sendable>(_ body: (ManualClock, DeadlineEngine) async throws -> T) async throws -> T {
        let clock = ManualClock()
        let engine = engine(clock)
        return try await whileRunning(relay()) {
            try await whileRunning({ try await engine.run() }) { try await body(clock, engine) }
        }
    }

    func act(_ action: TaskAction, on task: String, as agency: String) async throws {
        let outcome = try await fixture.dependencies.stores.tasks.perform(
            action, on: UUID(uuidString: task)!, by: .agency(PartyCode(rawValue: agency)!), actorName: "agency:\(agency)")
        guard case .applied = outcome else { throw TestSetupError("\(action.name) was not applied: \(outcome)") }
    }
}

@Suite("Deadline engine", .serialized, .timeLimit(.minutes(5)))
struct DeadlineTests {
    @Test func aTaskNeverAcknowledgedRaisesEveryRungOnceAtItsInstant() async throws {
        try await Pipeline.with { pipeline in
            try await pipeline.withRelayAndEngine { clock, engine in
                let tasks = try await pipeline.deliveredFinding()
                let task = try #require(tasks["so-nnmt"])
                let clocks = try await pipeline.clocks(of: task)
                #expect(clocks.map(\.stage) == ["acknowledge"])
                #expect(clocks.first?.holder == "agency:so-nnmt")
                let acknowledge = try #require(clocks.first).clock
                let calendar = try await pipeline.calendar()
                // The default policy: 7 working days from the day of delivery.
                #expect(acknowledge.dueAt == calendar.adding(workingDays: 7, to: acknowledge.startedAt))
                let instants = (0..<4).compactMap { acknowledge.time(ofRung: $0, calendar: calendar) }
                #expect(instants.count == 4)
                for (rung, instant) in instants.enumerated() {
                    try await pipeline.advance(clock, to: instant.addingTimeInterval(-1), engine)
                    #expect(try await pipeline.rungs(of: task).count == rung, "rung \(rung) raised before \(formatTimestamp(instant))")
                    try await pipeline.advance(clock, to: instant.addingTimeInterval(1), engine)
                    let raised = try await pipeline.rungs(of: task)
                    #expect(raised.count == rung + 1, "rung \(rung) not raised just after \(formatTimestamp(instant))")
                    #expect(raised.last?.rung == rung)
                    #expect(same(raised.last?.at, instant))
                }
                // A month later still nothing more: the ladder has four rungs, each raised once.
                try await pipeline.advance(clock, to: instants[3].addingTimeInterval(30 * 86_400), engine)
                #expect(try await pipeline.rungs(of: task).map(\.rung) == [0, 1, 2, 3])
                #expect(try await pipeline.rungs(of: try #require(tasks["ubnd-cau-giay"])).map(\.rung) == [0, 1, 2, 3])

                // Delivered as CloudEvents valid against schemas/events: so-nnmt hears every rung, the
                // City Inspectorate every rung from the overdue notice on, for both tasks.
                try await pipeline.waitUntilSent()
                let consumer = try pipeline.consumer(["tipwire.tasks.so-nnmt", TopicName.escalations])
                let messages = try await consume(consumer, count: 1 + 4 + 6)
                await consumer.close()
                try await expectValidEvents(messages)
                let types = messages.filter { $0.topic == "tipwire.tasks.so-nnmt" }.compactMap { $0.headerText("ce_type") }
                #expect(
                    types == [
                        EventType.taskAssigned, EventType.taskReminder, EventType.taskOverdue, EventType.escalationRaised, EventType.escalationRaised,
                    ])
                let escalations = messages.filter { $0.topic == TopicName.escalations }
                #expect(escalations.count == 6)
                let audiences = try escalations.map { message -> String in
                    let data = try #require(try JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any])
                    return data["audience"] as? String ?? ""
                }
                #expect(audiences.filter { $0 == "city-leadership" }.count == 2)
            }
        }
    }

    @Test func anAcknowledgedTaskRaisesNoneOfTheAcknowledgeRungs() async throws {
        try await Pipeline.with { pipeline in
            try await pipeline.withRelayAndEngine { clock, engine in
                let tasks = try await pipeline.deliveredFinding()
                let task = try #require(tasks["so-nnmt"])
                try await pipeline.act(.acknowledge(note: "Đã tiếp nhận"), on: task, as: "so-nnmt")
                let clocks = try await pipeline.clocks(of: task)
                #expect(clocks.map(\.stage) == ["acknowledge", "resolve"])
                #expect(clocks.map(\.state) == ["met", "running"])
                // The resolve clock: 30 calendar days from acceptance.
                let resolve = try #require(clocks.last).clock
                #expect(same(resolve.dueAt, resolve.startedAt.addingTimeInterval(30 * 86_400)))

                // Past the whole acknowledge ladder, short of the resolve clock's reminder.
                let calendar = try await pipeline.calendar()
                let acknowledge = try #require(clocks.first).clock
                let end = try #require(acknowledge.time(ofRung: 3, calendar: calendar)).addingTimeInterval(3600)
                #expect(end < resolve.time(ofRung: 0, calendar: calendar)!)
                try await pipeline.advance(clock, to: end, engine)
                #expect(try await pipeline.rungs(of: task).isEmpty)
                // The unacknowledged task beside it went up its ladder meanwhile.
                #expect(try await pipeline.rungs(of: try #require(tasks["ubnd-cau-giay"])).map(\.rung) == [0, 1, 2, 3])

                // Resolving stops the resolve clock too: nothing more, ever.
                try await pipeline.act(.resolve(outcome: .substantiated, summary: "Đã xử lý"), on: task, as: "so-nnmt")
                #expect(try await pipeline.clocks(of: task).map(\.state) == ["met", "met"])
                try await pipeline.advance(clock, to: end.addingTimeInterval(90 * 86_400), engine)
                #expect(try await pipeline.rungs(of: task).isEmpty)
            }
        }
    }

    @Test func anOpenInformationRequestPausesTheAgencysClockAndEscalatesTowardTheNewsroom() async throws {
        try await Pipeline.with { pipeline in
            try await pipeline.withRelayAndEngine { clock, engine in
                let tasks = try await pipeline.deliveredFinding()
                let task = try #require(tasks["so-nnmt"])
                try await pipeline.act(.acknowledge(note: nil), on: task, as: "so-nnmt")
                try await pipeline.act(.requestInfo(questions: "Đề nghị cung cấp biên bản gốc", documentsWanted: []), on: task, as: "so-nnmt")
                let clocks = try await pipeline.clocks(of: task)
                #expect(clocks.map(\.stage) == ["acknowledge", "resolve", "newsroom_answer"])
                #expect(clocks.map(\.state) == ["met", "paused", "running"])
                #expect(clocks.last?.holder == "newsroom:tuoitre")
                let resolveBefore = try #require(clocks.first { $0.stage == "resolve" }).clock

                // Sixty days on: the newsroom's ladder is done, the paused agency clock raised nothing.
                try await pipeline.advance(clock, to: Date().addingTimeInterval(60 * 86_400), engine)
                let raised = try await pipeline.rungs(of: task)
                #expect(raised.map(\.stage) == Array(repeating: "newsroom_answer", count: 4))
                try await pipeline.waitUntilSent()
                let topics = try await pipeline.fixture.client.query(
                    """
                    SELECT topic, count(*) FROM outbox_deliveries
                    WHERE ce_type IN ('vn.tipwire.task.reminder.v1', 'vn.tipwire.task.overdue.v1', 'vn.tipwire.escalation.raised.v1')
                    GROUP BY topic ORDER BY topic
                    """
                ).decode((String, Int).self)
                // The newsroom hears all four of its rungs; the inspectorate hears two for it, plus ubnd-cau-giay's three.
                #expect(topics.first { $0.0 == "tipwire.requests.tuoitre" }?.1 == 4)
                #expect(topics.first { $0.0 == "tipwire.tasks.so-nnmt" } == nil)

                // The newsroom answers: its clock is met, and the agency's resumes with the time it waited given back.
                let request = try await pipeline.fixture.client.query(
                    "SELECT id FROM info_requests WHERE task_id = \(UUID(uuidString: task)!)")[0].decode(column: 0, as: UUID.self)
                let answered = try await pipeline.fixture.dependencies.stores.requests.answer(
                    request, answer: "Gửi kèm biên bản", documentIDs: [], declined: false, by: .newsroom(PartyCode(rawValue: "tuoitre")!),
                    actorName: "liaison:tuoitre")
                guard case .answered = answered else { throw TestSetupError("the answer was not applied: \(answered)") }
                let after = try await pipeline.clocks(of: task)
                #expect(after.map(\.state) == ["met", "running", "met"])
                let resolveAfter = try #require(after.first { $0.stage == "resolve" }).clock
                #expect(resolveAfter.dueAt > resolveBefore.dueAt)
                #expect(same(resolveAfter.dueAt, resolveAfter.startedAt.addingTimeInterval(30 * 86_400)))
                try await pipeline.advance(clock, to: clock.now.addingTimeInterval(1), engine)
                // The resumed clock's reminder is weeks away in real time, but the test clock is far ahead: it is raised now.
                #expect(try await pipeline.rungs(of: task).filter { $0.stage == "resolve" }.count == 4)
            }
        }
    }

    @Test func anExtensionMovesTheResolveClockWithinThePolicysCap() async throws {
        try await Pipeline.with { pipeline in
            try await pipeline.whileRunning(pipeline.relay()) {
                let tasks = try await pipeline.deliveredFinding()
                let task = try #require(tasks["so-nnmt"])
                try await pipeline.act(.acknowledge(note: nil), on: task, as: "so-nnmt")
                let before = try #require(try await pipeline.clocks(of: task).last).clock
                try await pipeline.act(.extend(days: 10, reason: "Vụ việc phức tạp"), on: task, as: "so-nnmt")
                let after = try #require(try await pipeline.clocks(of: task).last).clock
                #expect(same(after.dueAt, before.dueAt.addingTimeInterval(10 * 86_400)))
                try await pipeline.act(.extend(days: 30, reason: "Vụ việc đặc biệt phức tạp"), on: task, as: "so-nnmt")
                // The default policy allows two extensions of at most 30 days each.
                let third = try await pipeline.fixture.dependencies.stores.tasks.perform(
                    .extend(days: 5, reason: "Lần ba"), on: UUID(uuidString: task)!, by: .agency(PartyCode(rawValue: "so-nnmt")!),
                    actorName: "agency:so-nnmt")
                guard case .rejected(.invalid(let failure)) = third else { throw TestSetupError("a third extension was not refused: \(third)") }
                #expect(failure.errors.map(\.field) == ["days"])
                // A land policy of one extension applies to this land finding.
                try await pipeline.fixture.client.execute(
                    "INSERT INTO deadline_policies (category_code, stage, amount, unit, max_extensions) VALUES ('land', 'resolve', 30, 'days', 1)")
                let other = try #require(tasks["ubnd-cau-giay"])
                try await pipeline.act(.acknowledge(note: nil), on: other, as: "ubnd-cau-giay")
                try await pipeline.act(.extend(days: 30, reason: "Phức tạp"), on: other, as: "ubnd-cau-giay")
                let second = try await pipeline.fixture.dependencies.stores.tasks.perform(
                    .extend(days: 5, reason: "Lần hai"), on: UUID(uuidString: other)!, by: .agency(PartyCode(rawValue: "ubnd-cau-giay")!),
                    actorName: "agency:ubnd-cau-giay")
                guard case .rejected(.invalid) = second else { throw TestSetupError("a second land extension was not refused: \(second)") }
            }
        }
    }

    @Test func withTwoEnginesRunningOnlyOneActsAndTheStandbyTakesOver() async throws {
        try await Pipeline.with { pipeline in
            let clock = ManualClock()
            try await SyntheticLoad.clocks(count: 200, due: 100, start: clock.now, window: 10, on: pipeline.fixture.client)
            let first = pipeline.engine(clock, instance: "engine-a", batchSize: 20)
            let second = pipeline.engine(clock, instance: "engine-b", batchSize: 20)
            let firstTask = Task { try await first.run() }
            let secondTask = Task { try await second.run() }
            defer {
                firstTask.cancel()
                secondTask.cancel()
            }
            try await eventually("an engine to take the lock") { try await ServiceLock.deadlines.holders(on: pipeline.fixture.client) == 1 }
            clock.set(clock.now.addingTimeInterval(11))
            first.wake()
            second.wake()
            try await eventually("100 reminders") {
                try await pipeline.fixture.client.query("SELECT count(*) FROM deadline_rungs")[0].decode(column: 0, as: Int.self) == 100
            }
            #expect(try await ServiceLock.deadlines.holders(on: pipeline.fixture.client) == 1)
            let raisers = try await pipeline.fixture.client.query("SELECT DISTINCT raised_by FROM deadline_rungs").decodeColumn(String.self)
            #expect(raisers.count == 1, "both engines acted: \(raisers)")
            // The active engine stops; the standby takes over and raises the rest.
            let (active, standby) = raisers == ["engine-a"] ? (firstTask, "engine-b") : (secondTask, "engine-a")
            active.cancel()
            _ = await active.result
            clock.set(clock.now.addingTimeInterval(8 * 86_400))
            first.wake()
            second.wake()
            try await eventually("the standby to raise the other clocks' rungs", timeout: .seconds(30)) {
                try await pipeline.fixture.client.query("SELECT count(*) FROM deadline_rungs WHERE raised_by = \(standby)")[0].decode(
                    column: 0, as: Int.self) >= 100
            }
            #expect(
                try await pipeline.fixture.client.query(
                    "SELECT count(*) FROM (SELECT deadline_id, rung FROM deadline_rungs GROUP BY 1, 2 HAVING count(*) > 1) d")[0].decode(
                        column: 0, as: Int.self) == 0)
        }
    }

    /// The engine process killed with SIGKILL while 10,000 reminders fall due, then restarted: every rung
    /// raised exactly once by the database's record, and delivered to Kafka at least once.
    @Test func anEngineKilledWhileTenThousandDeadlinesFallDueRaisesEachRungOnce() async throws {
        let binary = try tipwireBinary()
        try await Pipeline.with { pipeline in
            let total = 10_000
            let agencies = ["so-nnmt", "so-xay-dung", "ubnd-cau-giay", "ubnd-dong-da"]
            for agency in agencies { try pipeline.broker.createTopic("tipwire.tasks.\(agency)", partitions: 3) }
            try await SyntheticLoad.clocks(
                count: total, due: total, start: Date().addingTimeInterval(2), window: 4, agencies: agencies, on: pipeline.fixture.client)
            let schema = try await pipeline.fixture.client.query("SELECT current_schema()")[0].decode(column: 0, as: String.self)
            let url = try TestDatabase.url() + "?options=-csearch_path%3D\(schema)"
            let arguments = ["deadlines", "--database-url", url, "--deadline-batch", "50", "--log-format", "json", "--log-level", "warning"]
            func raised() async throws -> Int {
                try await pipeline.fixture.client.query("SELECT count(*) FROM deadline_rungs")[0].decode(column: 0, as: Int.self)
            }
            try await pipeline.whileRunning(pipeline.relay(batchSize: 2000)) {
                let killed = try startProcess(binary, arguments)
                try await eventually("the engine to raise part of the reminders", timeout: .seconds(60)) { try await raised() >= 1000 }
                kill(killed.processIdentifier, SIGKILL)
                killed.waitUntilExit()
                let atKill = try await raised()
                #expect(atKill < total, "the engine raised everything before it was killed; nothing was tested")

                let restarted = try startProcess(binary, arguments)
                defer {
                    restarted.terminate()
                    restarted.waitUntilExit()
                }
                try await eventually("every reminder to be raised", timeout: .seconds(120)) { try await raised() == total }
                try await pipeline.waitUntilSent(timeout: .seconds(120))
                let record = try await pipeline.fixture.client.query(
                    "SELECT count(*), count(DISTINCT deadline_id), count(*) FILTER (WHERE rung = 0) FROM deadline_rungs")[0].decode(
                        (Int, Int, Int).self)
                #expect(record == (total, total, total))
                #expect(
                    try await pipeline.fixture.client.query("SELECT count(*) FROM deadline_timers WHERE next_rung = 1")[0].decode(
                        column: 0, as: Int.self) == total)

                let expected = Set(
                    try await pipeline.fixture.client.query("SELECT ce_id FROM outbox_deliveries WHERE ce_type = \(EventType.taskReminder)")
                        .decodeColumn(UUID.self)
                        .map(\.lowercased))
                #expect(expected.count == total)
                let consumer = try pipeline.consumer(agencies.map { "tipwire.tasks.\($0)" })
                let (seen, messages) = try await readDistinctIDs(consumer, until: expected)
                await consumer.close()
                #expect(seen.isSuperset(of: expected))
                let escalationIDs = Set(
                    messages.compactMap { message -> String? in
                        (try? JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any])?["escalation_id"] as? String
                    })
                #expect(escalationIDs.count == total, "one rung per clock, however often a message repeats")
                print(
                    "engine SIGKILL: \(total) reminders, \(atKill) raised when killed; consumers saw \(messages.count) messages, \(seen.count) distinct ce_id"
                )
            }
        }
    }
}
