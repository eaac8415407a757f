import Foundation

/// A calendar day in Vietnam (Asia/Ho_Chi_Minh), the unit legal deadlines count in.
public struct CalendarDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        let candidate = CalendarDay(year: year, month: month, day: day)
        // Reject dates that do not exist (31 April, 29 February of a common year).
        guard CalendarDay(number: candidate.number) == candidate else { return nil }
        self = candidate
    }

    /// Days since 1970-01-01 (proleptic Gregorian; H. Hinnant's days_from_civil).
    public var number: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The day `number` days after 1970-01-01 (civil_from_days).
    public init(number: Int) {
        let z = number + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        self.init(year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month: month, day: day)
    }

    public static func < (lhs: CalendarDay, rhs: CalendarDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }

    /// Midnight at the start of the day, in Vietnam.
    public var start: Date { Date(timeIntervalSince1970: Double(number) * 86_400 - WorkingCalendar.utcOffset) }

    /// The next calendar day.
    public var next: CalendarDay { CalendarDay(number: number + 1) }

    /// Saturday or Sunday (1970-01-01 was a Thursday).
    public var isWeekend: Bool {
        let weekday = ((number % 7) + 7 + 4) % 7  // 0 Sunday … 6 Saturday
        return weekday == 0 || weekday == 6
    }
}

/// Vietnam's working days (docs/adr/0004): Monday to Friday, less public holidays (compensatory days
/// included), plus official swapped working days (a Saturday worked in exchange for a bridge day).
/// Holidays and swaps are data, published by the Ministry of Home Affairs each year.
///
/// Deadlines count whole working days: day zero is the day the clock starts, and a duty of N working
/// days is due when the Nth working day after it ends (midnight, Vietnam time).
public struct WorkingCalendar: Sendable {
    public var holidays: Set<CalendarDay>
    public var workingOverrides: Set<CalendarDay>

    public init(holidays: Set<CalendarDay> = [], workingOverrides: Set<CalendarDay> = []) {
        self.holidays = holidays
        self.workingOverrides = workingOverrides
    }

    /// Vietnam keeps UTC+7 all year (no daylight saving since 1975), so days are plain arithmetic:
    /// deadlines are computed for every rung the engine raises, and Foundation's `Calendar` costs
    /// microseconds a day where this costs nanoseconds. Tests check it against `Calendar` in
    /// Asia/Ho_Chi_Minh.
    public static let utcOffset: TimeInterval = 7 * 3600

    /// The day an instant falls on in Vietnam.
    public static func dayOf(_ instant: Date) -> CalendarDay {
        CalendarDay(number: Int(((TimestampRange.clamp(instant).timeIntervalSince1970 + utcOffset) / 86_400).rounded(.down)))
    }

    public func isWorkingDay(_ day: CalendarDay) -> Bool {
        if workingOverrides.contains(day) { return true }
        if holidays.contains(day) { return false }
        return !day.isWeekend
    }

    /// When a duty of `days` working days that starts at `start` falls due: the end of the `days`th
    /// working day after the day of `start`. Zero days is `start` itself.
    public func adding(workingDays days: Int, to start: Date) -> Date {
        guard days > 0 else { return start }
        var day = Self.dayOf(start)
        var counted = 0
        while counted < days {
            day = day.next
            if isWorkingDay(day) { counted += 1 }
        }
        return day.next.start
    }

    /// Working days from `start` to `end`: the working days after the day of `start` up to the day on
    /// which `end` falls (an `end` at midnight closes the day before). Negative when `end` comes first.
    public func workingDays(from start: Date, to end: Date) -> Int {
        if end < start { return -workingDays(from: end, to: start) }
        let first = Self.dayOf(start)
        let last = Self.dayOf(end.addingTimeInterval(-0.000_001))
        var count = 0
        var day = first
        while day < last {
            day = day.next
            if isWorkingDay(day) { count += 1 }
        }
        return count
    }

    /// `instant` if it falls on a working day, else the start of the next working day.
    public func nextWorkingInstant(after instant: Date) -> Date {
        var day = Self.dayOf(instant)
        if isWorkingDay(day) { return instant }
        repeat { day = day.next } while !isWorkingDay(day)
        return day.start
    }
}

/// A calendar file: `date,kind,name` lines (a header line is allowed), `kind` being `holiday` (a day
/// off) or `working` (a swapped working day), e.g. `2026-08-22,working,Làm bù cho thứ Hai 31/8/2026`.
public enum CalendarFile {
    public enum Kind: String, Sendable { case holiday, working }

    public struct Entry: Sendable, Hashable {
        public var day: CalendarDay
        public var kind: Kind
        public var name: String

        public init(day: CalendarDay, kind: Kind, name: String) {
            self.day = day
            self.kind = kind
            self.name = name
        }
    }

    /// Parses the whole file, naming every bad line; nothing is returned unless every line is good.
    public static func parse(_ text: String) throws(ValidationFailure) -> [Entry] {
        var entries: [Entry] = []
        var errors: [FieldError] = []
        var seen: [CalendarDay: Int] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            let number = index + 1
            if line.isEmpty || line.hasPrefix("#") || (number == 1 && line.lowercased().hasPrefix("date,")) { continue }
            let fields = line.split(separator: ",", maxSplits: 2, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 3 else {
                errors.append(FieldError("line \(number)", "must be date,kind,name"))
                continue
            }
            guard let day = CalendarDay(fields[0]) else {
                errors.append(FieldError("line \(number)", "'\(fields[0])' is not a date (YYYY-MM-DD)"))
                continue
            }
            guard let kind = Kind(rawValue: fields[1]) else {
                errors.append(FieldError("line \(number)", "kind must be holiday or working, not '\(fields[1])'"))
                continue
            }
            guard (1...200).contains(fields[2].count) else {
                errors.append(FieldError("line \(number)", "name must be 1 to 200 characters"))
                continue
            }
            if let earlier = seen[day] {
                errors.append(FieldError("line \(number)", "\(day) is already on line \(earlier)"))
                continue
            }
            seen[day] = number
            entries.append(Entry(day: day, kind: kind, name: fields[2]))
        }
        if !errors.isEmpty { throw ValidationFailure(errors) }
        return entries
    }
}
