import Foundation
import Testing
import TipwireCore

@Suite("Deadline policies")
struct DeadlinePolicyTests {
    static let calendar = WorkingCalendarTests.calendar
    static let start = parseTimestamp("2026-02-13T16:00:00+07:00")!

    @Test func eachUnitCountsItsOwnWay() {
        let hours = DeadlinePolicy(stage: .deliver, amount: 1, unit: .hours)
        #expect(hours.due(from: Self.start, calendar: Self.calendar) == Self.start.addingTimeInterval(3600))
        let days = DeadlinePolicy(stage: .resolve, amount: 30, unit: .days)
        #expect(days.due(from: Self.start, calendar: Self.calendar) == Self.start.addingTimeInterval(30 * 86_400))
        let working = DeadlinePolicy(stage: .acknowledge, amount: 7, unit: .workingDays)
        #expect(working.due(from: Self.start, calendar: Self.calendar) == parseTimestamp("2026-03-04T00:00:00+07:00")!)
    }

    @Test func theReminderFallsAtItsShareOfTheWindow() {
        let policy = DeadlinePolicy(stage: .resolve, amount: 10, unit: .days, reminderPercent: 80)
        let due = policy.due(from: Self.start, calendar: Self.calendar)
        #expect(policy.reminder(from: Self.start, due: due) == Self.start.addingTimeInterval(8 * 86_400))
    }

    @Test func aCategorysOwnPolicyWinsOverTheDefaultWhichWinsOverTheBuiltIn() {
        let policies = [
            DeadlinePolicy(stage: .acknowledge, amount: 7, unit: .workingDays),
            DeadlinePolicy(category: "land", stage: .acknowledge, amount: 10, unit: .workingDays),
        ]
        #expect(DeadlinePolicy.effective(policies, category: "land", stage: .acknowledge).amount == 10)
        #expect(DeadlinePolicy.effective(policies, category: "budget", stage: .acknowledge).amount == 7)
        #expect(DeadlinePolicy.effective(policies, category: "budget", stage: .agencyAnswer) == .default(for: .agencyAnswer))
        #expect(DeadlineStage.allCases.map { DeadlinePolicy.default(for: $0).stage } == DeadlineStage.allCases)
    }
}
