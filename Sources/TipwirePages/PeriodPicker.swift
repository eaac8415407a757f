import Foundation
import TipwireCore

/// The period a page shows and how the reader chose it: the default (the reporting year to date), a
/// named period, or a range of days; and what the picker offers from `today` under `calendar`.
public struct PeriodChoice: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// Nothing asked: the reporting year to date.
        case reportingYearToDate
        case named(NamedPeriod)
        /// `from` and `to` as given.
        case range
    }

    public var period: StatsPeriod
    public var kind: Kind
    public var today: CalendarDay
    public var calendar: ReportingCalendar
    /// The watermark of the figures shown (`LatencyReport.figuresAsOf`), stated under the period.
    public var figuresAsOf: Date?

    public init(period: StatsPeriod, kind: Kind, today: CalendarDay, calendar: ReportingCalendar) {
        self.period = period
        self.kind = kind
        self.today = today
        self.calendar = calendar
    }

    /// The query that shows the same period again, for links between pages (empty for the default).
    public var query: String {
        switch kind {
        case .reportingYearToDate: ""
        case .named(let name): "period=\(name)"
        case .range: "from=\(period.from)&to=\(period.to)"
        }
    }

    /// `path` with the period's query and `more` (already encoded), joined as a URL wants them.
    func link(_ path: String, _ more: String = "") -> String {
        let parts = [query, more].filter { !$0.isEmpty }
        return parts.isEmpty ? path : path + "?" + parts.joined(separator: "&")
    }

    /// The picker's named periods, newest first: this and last reporting year, their nine months, halves
    /// and quarters, and the last twelve reporting months; then the same in calendar periods. Periods that
    /// have not begun are left out; one asked for by name is always there.
    func options() -> [(reporting: Bool, periods: [NamedPeriod])] {
        [true, false].map { reporting in
            let calendar = reporting ? calendar : .calendarMonths
            let year = calendar.year(containing: today)
            var periods: [NamedPeriod] = []
            for year in [year, year - 1] {
                let spans: [NamedPeriod.Span] = [.year, .nineMonths, .half(2), .half(1), .quarter(4), .quarter(3), .quarter(2), .quarter(1)]
                periods += spans.map { NamedPeriod(reporting: reporting, year: year, span: $0) }
            }
            var month = calendar.month(containing: today)
            month.reporting = reporting
            for _ in 0..<12 {
                periods.append(month)
                guard case .month(let number) = month.span else { break }
                month =
                    number == 1
                    ? NamedPeriod(reporting: reporting, year: month.year - 1, span: .month(12))
                    : NamedPeriod(
                        reporting: reporting, year: month.year, span: .month(number - 1))
            }
            periods = periods.filter { $0.period(in: self.calendar).from <= today }
            if case .named(let asked) = kind, asked.reporting == reporting, !periods.contains(asked) { periods.insert(asked, at: 0) }
            return (reporting, periods)
        }
    }

    /// The values the period form's template reads.
    func values(_ wording: Wording) -> [String: Any] {
        let language = wording.language
        func dates(_ period: StatsPeriod) -> String { "\(period.from.formatted(language)) – \(period.to.formatted(language))" }
        let yearToDate = StatsPeriod.reportingYearToDate(today: today, calendar: calendar)
        var groups: [[String: Any]] = [
            [
                "label": wording["period-default-group"],
                "options": [
                    [
                        "value": "", "text": "\(wording["period-default"]) (\(dates(yearToDate)))",
                        "selected": kind == .reportingYearToDate,
                    ] as [String: Any]
                ],
            ]
        ]
        for (reporting, periods) in options() {
            groups.append([
                "label": reporting ? wording.reportingPeriods(calendar) : wording["calendar-periods"],
                "options": periods.map { named -> [String: Any] in
                    [
                        "value": named.description, "text": "\(wording.periodName(named)) (\(dates(named.period(in: calendar))))",
                        "selected": kind == .named(named),
                    ]
                },
            ])
        }
        return [
            "from": period.from.description, "to": period.to.description, "groups": groups,
            "shown": "\(wording["showing"]): \(dates(period))",
            "figures": figuresAsOf.map { String(format: wording["figures-note"], wording.dateTime($0)) } ?? "",
        ]
    }
}
