import Foundation
import Fuzzing
import Testing
import TipwireCore

@Suite("Working-day calendar")
struct WorkingCalendarTests {
    static func day(_ text: String) -> CalendarDay { CalendarDay(text)! }

    /// Vietnam's official 2026 schedule of holidays and swapped working days (`schemas/sql/0004_calendar.sql` seeds the same, and 2025 and 2027).
    static let calendar = WorkingCalendar(
        holidays: Set(
            [
                "2026-01-01", "2026-02-14", "2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21",
                "2026-02-22", "2026-04-26", "2026-04-27", "2026-04-30", "2026-05-01", "2026-08-29", "2026-08-30", "2026-08-31", "2026-09-01",
                "2026-09-02",
            ].map(day)),
        workingOverrides: [day("2026-08-22")])

    static func instant(_ text: String) -> Date { parseTimestamp(text)! }

    @Test func aTaskDeliveredOnTheLastWorkingDayBeforeTet2026IsDueSevenWorkingDaysAfterTheHoliday() {
        // Friday 13 February 2026, 16:00 in Hanoi; Tết runs Saturday 14 to Sunday 22 February.
        let delivered = Self.instant("2026-02-13T16:00:00+07:00")
        let due = Self.calendar.adding(workingDays: 7, to: delivered)
        // Working days 23, 24, 25, 26, 27 February, 2 and 3 March: due when Tuesday 3 March ends.
        #expect(due == Self.instant("2026-03-04T00:00:00+07:00"))
        #expect(Self.calendar.workingDays(from: delivered, to: due) == 7)
        #expect(Self.calendar.adding(workingDays: 1, to: delivered) == Self.instant("2026-02-24T00:00:00+07:00"))
    }

    @Test func theSwappedSaturdayIsWorkedAndTheBridgeDayIsNot() {
        #expect(Self.calendar.isWorkingDay(Self.day("2026-08-22")))
        #expect(!Self.calendar.isWorkingDay(Self.day("2026-08-31")))
        // Friday 21 August + 1 working day: the swapped Saturday 22 August.
        #expect(Self.calendar.adding(workingDays: 1, to: Self.instant("2026-08-21T09:00:00+07:00")) == Self.instant("2026-08-23T00:00:00+07:00"))
        // Friday 28 August + 1: Thursday 3 September, after National Day.
        #expect(Self.calendar.adding(workingDays: 1, to: Self.instant("2026-08-28T09:00:00+07:00")) == Self.instant("2026-09-04T00:00:00+07:00"))
    }

    @Test func theNextWorkingInstantSkipsDaysOff() {
        let saturday = Self.instant("2026-02-14T10:00:00+07:00")
        #expect(Self.calendar.nextWorkingInstant(after: saturday) == Self.instant("2026-02-23T00:00:00+07:00"))
        let tuesday = Self.instant("2026-03-03T10:00:00+07:00")
        #expect(Self.calendar.nextWorkingInstant(after: tuesday) == tuesday)
    }

    @Test func daysAreCountedInHanoiTime() {
        // 23:30 UTC on Friday is already Saturday in Hanoi.
        #expect(WorkingCalendar.dayOf(Self.instant("2026-03-06T23:30:00Z")) == Self.day("2026-03-07"))
        #expect(CalendarDay("2026-02-29") == nil)
        #expect(CalendarDay("2026-13-01") == nil)
        #expect(CalendarDay("26-01-01") == nil)
    }

    /// Properties over 10,000 random instants in 2025–2027 and durations of 0 to 60 working days.
    @Test func addingThenCountingGivesNAndNeverLandsOnADayOff() {
        var generator = SeededGenerator(seed: 20_261_125)
        let from = Self.instant("2025-01-01T00:00:00+07:00").timeIntervalSince1970
        let to = Self.instant("2027-10-01T00:00:00+07:00").timeIntervalSince1970
        for _ in 0..<10_000 {
            let start = Date(timeIntervalSince1970: Double.random(in: from..<to, using: &generator))
            let days = Int.random(in: 0...60, using: &generator)
            let due = Self.calendar.adding(workingDays: days, to: start)
            #expect(Self.calendar.workingDays(from: start, to: due) == days, "\(start) + \(days)")
            #expect(due >= start)
            if days > 0 {
                // The due instant ends a working day: the day just before it is one.
                #expect(Self.calendar.isWorkingDay(WorkingCalendar.dayOf(due.addingTimeInterval(-1))), "\(start) + \(days) → \(due)")
                #expect(Self.calendar.adding(workingDays: days - 1, to: start) < due)
            }
            let next = Self.calendar.nextWorkingInstant(after: start)
            #expect(Self.calendar.isWorkingDay(WorkingCalendar.dayOf(next)))
            #expect(next >= start)
        }
    }
}

@Suite("Calendar arithmetic against Foundation")
struct CalendarArithmeticTests {
    static let hanoi: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh")!
        return calendar
    }()

    @Test func daysAndWeekendsAgreeWithFoundationInHanoiOver10000RandomInstants() {
        var generator = SystemRandomNumberGenerator()
        // 1976 to 2100: Vietnam has kept UTC+7 throughout.
        let range = Date(timeIntervalSince1970: 189_302_400).timeIntervalSince1970...Date(timeIntervalSince1970: 4_102_444_800).timeIntervalSince1970
        for _ in 0..<10_000 {
            let instant = Date(timeIntervalSince1970: Double.random(in: range, using: &generator))
            let day = WorkingCalendar.dayOf(instant)
            let parts = Self.hanoi.dateComponents([.year, .month, .day, .weekday], from: instant)
            #expect(day == CalendarDay(year: parts.year!, month: parts.month!, day: parts.day!))
            #expect(day.isWeekend == (parts.weekday == 1 || parts.weekday == 7))
            #expect(day.start == Self.hanoi.startOfDay(for: instant))
            #expect(CalendarDay(number: day.number) == day)
            #expect(day.next.number == day.number + 1)
        }
    }

    @Test func datesThatDoNotExistAreRefused() {
        #expect(CalendarDay("2026-02-29") == nil)
        #expect(CalendarDay("2028-02-29") != nil)
        #expect(CalendarDay("2026-04-31") == nil)
        #expect(CalendarDay("2026-12-31")?.next == CalendarDay("2027-01-01"))
    }
}
