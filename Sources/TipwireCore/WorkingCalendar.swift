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
        guard WorkingCalendar.dayOf(candidate.start) == candidate else { return nil }
        self = candidate
    }

    public static func < (lhs: CalendarDay, rhs: CalendarDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }

    /// Midnight at the start of the day, in Vietnam.
    public var start: Date {
        WorkingCalendar.gregorian.date(from: DateComponents(year: year, month: month, day: day)) ?? Date(timeIntervalSince1970: 0)
    }

    /// The next calendar day.
    public var next: CalendarDay { WorkingCalendar.dayOf(start.addingTimeInterval(36 * 3600)) }

    /// Saturday or Sunday.
    public var isWeekend: Bool {
        let weekday = WorkingCalendar.gregorian.component(.weekday, from: start)
        return weekday == 1 || weekday == 7
    }
}

/// Vietnam's working days (DESIGN §7): Monday to Friday, less public holidays (compensatory days
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

    static let gregorian: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Ho_Chi_Minh") ?? TimeZone(secondsFromGMT: 7 * 3600) ?? .gmt
        return calendar
    }()

    /// The day an instant falls on in Vietnam.
    public static func dayOf(_ instant: Date) -> CalendarDay {
        let parts = gregorian.dateComponents([.year, .month, .day], from: instant)
        return CalendarDay(year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1)
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
