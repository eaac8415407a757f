import Foundation
import Testing
import TipwireCore

@Suite("Duty clocks and the escalation ladder")
struct DutyClockTests {
    static let calendar = WorkingCalendarTests.calendar
    static func instant(_ text: String) -> Date { parseTimestamp(text)! }

    /// Delivered Friday 13 February 2026 at 16:00, the last working day before Tết: 7 working days to
    /// acknowledge, a rung every 2 working days after.
    static let acknowledge = DutyClock(
        policy: DeadlinePolicy(stage: .acknowledge, amount: 7, unit: .workingDays, reminderPercent: 80, ladderStepWorkingDays: 2),
        start: instant("2026-02-13T16:00:00+07:00"), calendar: calendar)

    @Test func theLadderOfAnAcknowledgeClockAcrossTet() {
        let clock = Self.acknowledge
        #expect(clock.dueAt == Self.instant("2026-03-04T00:00:00+07:00"))
        let times = (0..<4).map { clock.time(ofRung: $0, calendar: Self.calendar) }
        // 80% of the window's wall-clock length, Tết included.
        #expect(times[0] == clock.startedAt.addingTimeInterval(clock.dueAt.timeIntervalSince(clock.startedAt) * 0.8))
        #expect(times[1] == clock.dueAt)
        // Due when Tuesday 3 March ends: 2 working days later is the end of Thursday 5 March, 4 the end of Monday 9 March.
        #expect(times[2] == Self.instant("2026-03-06T00:00:00+07:00"))
        #expect(times[3] == Self.instant("2026-03-10T00:00:00+07:00"))
        #expect(clock.time(ofRung: 4, calendar: Self.calendar) == nil)
    }

    @Test func rungsComeInOrderForEveryPolicyShape() {
        let start = Self.instant("2026-04-24T10:00:00+07:00")
        for policy in [
            DeadlinePolicy(stage: .resolve, amount: 30, unit: .days), DeadlinePolicy(stage: .deliver, amount: 1, unit: .hours),
            DeadlinePolicy(stage: .newsroomAnswer, amount: 5, unit: .workingDays, reminderPercent: 50, ladderStepWorkingDays: 1),
        ] {
            let clock = DutyClock(policy: policy, start: start, calendar: Self.calendar)
            let times = (0..<4).compactMap { clock.time(ofRung: $0, calendar: Self.calendar) }
            #expect(times.count == 4)
            #expect(times == times.sorted() && Set(times).count == 4, "\(policy.stage): \(times)")
            #expect(times[0] > start)
        }
    }

    @Test func aPausedClockGivesBackTheTimeItStoodStill() {
        let clock = Self.acknowledge
        let resumed = clock.resumed(after: 3 * 86_400)
        #expect(resumed.dueAt == clock.dueAt.addingTimeInterval(3 * 86_400))
        #expect(resumed.time(ofRung: 0, calendar: Self.calendar) == clock.time(ofRung: 0, calendar: Self.calendar)!.addingTimeInterval(3 * 86_400))
        #expect(clock.resumed(after: -5) == clock)
    }

    @Test func remainingAndOverdueCountWorkingDays() {
        let clock = Self.acknowledge
        // Monday 2 March, noon: Monday's rest and Tuesday are left — the day it is counts as begun, so 1 more working day.
        #expect(clock.status(at: Self.instant("2026-03-02T12:00:00+07:00"), calendar: Self.calendar) == (1, 0))
        #expect(clock.status(at: Self.instant("2026-02-13T16:00:00+07:00"), calendar: Self.calendar) == (7, 0))
        // Wednesday 4 March, 09:00: one working day late; Monday 9 March: four.
        #expect(clock.status(at: Self.instant("2026-03-04T09:00:00+07:00"), calendar: Self.calendar) == (0, 1))
        #expect(clock.status(at: Self.instant("2026-03-09T09:00:00+07:00"), calendar: Self.calendar) == (0, 4))
    }

    @Test func extensionsMoveTheDueTimeInTheirOwnUnit() {
        let due = Self.instant("2026-03-04T00:00:00+07:00")
        #expect(
            DeadlinePolicy(stage: .extension, amount: 30, unit: .days).extending(due, by: 10, calendar: Self.calendar)
                == due.addingTimeInterval(10 * 86_400))
        // 2 working days after the end of Tuesday 3 March: the end of Thursday 5 March.
        #expect(
            DeadlinePolicy(stage: .extension, amount: 30, unit: .workingDays).extending(due, by: 2, calendar: Self.calendar)
                == Self.instant("2026-03-06T00:00:00+07:00"))
    }

    @Test func theExtensionCapComesFromTheCategorysPolicies() {
        let policies = [
            DeadlinePolicy(stage: .resolve, amount: 30, unit: .days, maxExtensions: 2), DeadlinePolicy(stage: .extension, amount: 30, unit: .days),
            DeadlinePolicy(category: "land", stage: .resolve, amount: 45, unit: .days, maxExtensions: 1),
        ]
        #expect(DeadlinePolicy.lifecyclePolicy(policies, category: "land") == LifecyclePolicy(maximumExtensions: 1, maximumExtensionDays: 30))
        #expect(DeadlinePolicy.lifecyclePolicy(policies, category: "budget") == LifecyclePolicy(maximumExtensions: 2, maximumExtensionDays: 30))
    }

    @Test func eachRungIsAnnouncedWhereItsAudienceListens() {
        let agency = DutyHolder.agency(PartyCode(rawValue: "so-nnmt")!)
        let newsroom = DutyHolder.newsroom(PartyCode(rawValue: "tuoitre")!)
        #expect(EscalationLadder.rungs[0].topics(for: agency) == ["tipwire.tasks.so-nnmt"])
        #expect(EscalationLadder.rungs[1].topics(for: newsroom) == ["tipwire.requests.tuoitre", "tipwire.escalations"])
        #expect(
            EscalationLadder.rungs.map(\.eventType) == [
                EventType.taskReminder, EventType.taskOverdue, EventType.escalationRaised, EventType.escalationRaised,
            ])
        #expect(EscalationLadder.rungs.map(\.audience) == ["holder", "holder-head", "city-inspectorate", "city-leadership"])
    }
}

@Suite("Time-ordered UUIDs")
struct TimeOrderedUUIDTests {
    @Test func idsMadeLaterSortLaterAndCarryVersionSeven() {
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        let ids = (0..<1000).map { UUID.timeOrdered(at: start.addingTimeInterval(Double($0) * 0.002)) }
        #expect(ids.map(\.lowercased) == ids.map(\.lowercased).sorted())
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { $0.lowercased.dropFirst(14).first == "7" })
        #expect(ids.allSatisfy { "89ab".contains($0.lowercased.dropFirst(19).first!) })
    }
}

@Suite("Deadline event JSON")
struct DeadlineEventJSONTests {
    @Test(arguments: [
        ("land", "so-nnmt", nil as String?), ("other", "tuoitre", "0c4a2f0e-7d7f-4f53-9a56-3f8b1c9d2e10"), ("tab\t\"quote\"\\/\u{1}", "vks-tp", nil),
    ])
    func theDirectWriterMatchesJSONEncoder(category: String, holder: String, request: String?) throws {
        let code = PartyCode(rawValue: holder)!
        let clock = DutyClockTests.acknowledge
        for (index, rung) in EscalationLadder.rungs.enumerated() {
            let raised = clock.startedAt.addingTimeInterval(Double(index) * 777_777.123)
            let data = DeadlineEventData(
                escalationID: UUID.timeOrdered(at: raised), stage: index % 2 == 0 ? .acknowledge : .newsroomAnswer,
                holder: index % 2 == 0 ? .agency(code) : .newsroom(code), task: (UUID(), PartyCode(rawValue: "so-nnmt")!),
                finding: (UUID(), PartyCode(rawValue: "tuoitre")!, category), requestID: request.flatMap(UUID.init(uuidString:)), rung: rung,
                clock: clock,
                rungAt: clock.time(ofRung: index, calendar: DutyClockTests.calendar)!, raisedAt: raised, calendar: DutyClockTests.calendar)
            #expect(String(decoding: data.json(), as: UTF8.self) == String(decoding: try TipwireJSON.encode(data), as: UTF8.self))
        }
    }
}
