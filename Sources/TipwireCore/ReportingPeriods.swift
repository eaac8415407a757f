/// How reporting periods are cut. Decree 09/2019/NĐ-CP on the reporting regime of state administrative
/// agencies (Article 12) closes a periodic report's figures from the 15th of the month before the period
/// to the 14th of its last month: the reporting month of November 2026 runs from 15 October to
/// 14 November, the reporting year 2026 from 15 December 2025 to 14 December 2026. Quarters, half-years,
/// nine months and the year are runs of reporting months. Sectors that report calendar periods start on
/// the 1st. The start day is data (`reporting_calendar`, migration 0022), so an admin can change it.
public struct ReportingCalendar: Sendable, Hashable, Codable {
    /// The day of the month before on which a reporting month starts (15), or 1: the calendar month.
    public var startDay: Int

    /// The days a start day may take: every month has them.
    public static let startDays = 1...28
    /// Decree 09/2019/NĐ-CP's cut-off: from the 15th to the 14th.
    public static let decree09 = ReportingCalendar(startDay: 15)
    /// Calendar months.
    public static let calendarMonths = ReportingCalendar(startDay: 1)

    public init(startDay: Int) {
        self.startDay = min(max(startDay, Self.startDays.lowerBound), Self.startDays.upperBound)
    }

    /// The first day of reporting month `month` of `year`.
    func firstDay(ofMonth month: Int, year: Int) -> CalendarDay {
        if startDay == 1 { return CalendarDay(year: year, month: month, day: 1) }
        return month == 1 ? CalendarDay(year: year - 1, month: 12, day: startDay) : CalendarDay(year: year, month: month - 1, day: startDay)
    }

    /// The days of reporting months `months` of `year`, the first's first day through the last's last.
    public func period(months: ClosedRange<Int>, of year: Int) -> StatsPeriod {
        let next = months.upperBound == 12 ? firstDay(ofMonth: 1, year: year + 1) : firstDay(ofMonth: months.upperBound + 1, year: year)
        return StatsPeriod(from: firstDay(ofMonth: months.lowerBound, year: year), to: CalendarDay(number: next.number - 1))
    }

    /// The reporting year `day` falls in: with the decree's cut-off, 15 December 2026 is in 2027's.
    public func year(containing day: CalendarDay) -> Int {
        day >= firstDay(ofMonth: 1, year: day.year + 1) ? day.year + 1 : day.year
    }

    /// The reporting month `day` falls in: with the decree's cut-off, 7 December 2026 is in
    /// `report-2026-12`, 15 December 2026 in `report-2027-01`.
    public func month(containing day: CalendarDay) -> NamedPeriod {
        let year = year(containing: day)
        let month = (1...12).first { period(months: $0...$0, of: year).to >= day } ?? 12
        return NamedPeriod(reporting: true, year: year, span: .month(month))
    }
}

/// A period by name, in the API (`period=report-2026-Q3`), the CLI (`--period`) and the dashboard's
/// picker. Calendar periods: `2026`, `2026-H1`, `2026-9M`, `2026-Q3`, `2026-11`. Reporting periods, cut by
/// the reporting calendar, carry the prefix `report-`: `report-2026`, `report-2026-H2`, `report-2026-9M`,
/// `report-2026-Q4`, `report-2026-11`.
public struct NamedPeriod: Sendable, Hashable, CustomStringConvertible {
    public enum Span: Sendable, Hashable {
        case year
        case half(Int)
        case nineMonths
        case quarter(Int)
        case month(Int)

        /// The months of the year the span covers.
        var months: ClosedRange<Int> {
            switch self {
            case .year: 1...12
            case .half(let half): (half * 6 - 5)...(half * 6)
            case .nineMonths: 1...9
            case .quarter(let quarter): (quarter * 3 - 2)...(quarter * 3)
            case .month(let month): month...month
            }
        }

        var suffix: String {
            switch self {
            case .year: ""
            case .half(let half): "-H\(half)"
            case .nineMonths: "-9M"
            case .quarter(let quarter): "-Q\(quarter)"
            case .month(let month): month < 10 ? "-0\(month)" : "-\(month)"
            }
        }
    }

    /// Cut by the reporting calendar (`report-…`), or calendar months.
    public var reporting: Bool
    public var year: Int
    public var span: Span

    static let reportingPrefix = "report-"

    public init(reporting: Bool, year: Int, span: Span) {
        self.reporting = reporting
        self.year = year
        self.span = span
    }

    /// Reads a period's name; nil when it is not one (the message to give is `NamedPeriod.expected`).
    public init?(_ text: String) {
        var rest = Substring(text)
        reporting = rest.hasPrefix(Self.reportingPrefix)
        if reporting { rest = rest.dropFirst(Self.reportingPrefix.count) }
        let parts = rest.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard let yearText = parts.first, yearText.count == 4, yearText.allSatisfy(\.isASCIIDigit), let year = Int(yearText),
            StatsPeriod.years.contains(year)
        else { return nil }
        self.year = year
        guard parts.count == 2 else {
            span = .year
            return
        }
        let name = parts[1]
        func number(_ digits: Substring, in range: ClosedRange<Int>) -> Int? {
            guard !digits.isEmpty, digits.count <= 2, digits.allSatisfy(\.isASCIIDigit), let value = Int(digits), range.contains(value) else {
                return nil
            }
            return value
        }
        if name == "9M" {
            span = .nineMonths
        } else if name.first == "H", let half = number(name.dropFirst(), in: 1...2) {
            span = .half(half)
        } else if name.first == "Q", let quarter = number(name.dropFirst(), in: 1...4) {
            span = .quarter(quarter)
        } else if name.count == 2, let month = number(name, in: 1...12) {
            span = .month(month)
        } else {
            return nil
        }
    }

    /// What a period's name looks like, for error messages.
    public static let expected =
        "must name a period: YYYY, YYYY-H1|H2, YYYY-9M, YYYY-Q1…Q4 or YYYY-MM (calendar), or the same after report- (reporting periods, e.g. report-2026-11)"

    public var description: String { (reporting ? Self.reportingPrefix : "") + String(year) + span.suffix }

    /// Its days: reporting periods cut by `calendar`, calendar periods by calendar months.
    public func period(in calendar: ReportingCalendar) -> StatsPeriod {
        (reporting ? calendar : .calendarMonths).period(months: span.months, of: year)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

extension StatsPeriod {
    /// The period a report asks for: a named `period`, or a range of `from` and `to` (`YYYY-MM-DD`, either
    /// may be missing: by default the 365 days that end `today`), never both. Names every bad field.
    public static func parse(
        period name: String?, from: String?, to: String?, today: CalendarDay, calendar: ReportingCalendar
    ) throws(ValidationFailure) -> StatsPeriod {
        guard let name else { return try parse(from: from, to: to, today: today) }
        guard from == nil, to == nil else { throw ValidationFailure("period", "give a named period or from and to, not both") }
        guard let named = NamedPeriod(name) else { throw ValidationFailure("period", NamedPeriod.expected) }
        return named.period(in: calendar)
    }

    /// The reporting year to `today`: from the first day of the reporting year `today` is in.
    public static func reportingYearToDate(today: CalendarDay, calendar: ReportingCalendar) -> StatsPeriod {
        let year = NamedPeriod(reporting: true, year: calendar.year(containing: today), span: .year).period(in: calendar)
        return StatsPeriod(from: year.from, to: today)
    }
}
