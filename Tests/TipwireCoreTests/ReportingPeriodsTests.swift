import Testing
import TipwireCore

@Suite("Reporting periods")
struct ReportingPeriodsTests {
    static func day(_ text: String) -> CalendarDay { CalendarDay(text)! }

    static func period(_ from: String, _ to: String) -> StatsPeriod { StatsPeriod(from: day(from), to: day(to)) }

    /// Decree 09/2019/NĐ-CP, Article 12: from the 15th of the month before the period to the 14th of its
    /// last month; and the calendar periods beside them.
    @Test(arguments: [
        ("report-2026-11", period("2026-10-15", "2026-11-14")),
        ("report-2026-01", period("2025-12-15", "2026-01-14")),
        ("report-2026-12", period("2026-11-15", "2026-12-14")),
        ("report-2026-03", period("2026-02-15", "2026-03-14")),
        ("report-2026-Q1", period("2025-12-15", "2026-03-14")),
        ("report-2026-Q3", period("2026-06-15", "2026-09-14")),
        ("report-2026-Q4", period("2026-09-15", "2026-12-14")),
        ("report-2026-H1", period("2025-12-15", "2026-06-14")),
        ("report-2026-H2", period("2026-06-15", "2026-12-14")),
        ("report-2026-9M", period("2025-12-15", "2026-09-14")),
        ("report-2026", period("2025-12-15", "2026-12-14")),
        ("2026", period("2026-01-01", "2026-12-31")),
        ("2026-Q3", period("2026-07-01", "2026-09-30")),
        ("2026-02", period("2026-02-01", "2026-02-28")),
        ("2024-02", period("2024-02-01", "2024-02-29")),
        ("2026-H2", period("2026-07-01", "2026-12-31")),
        ("2026-9M", period("2026-01-01", "2026-09-30")),
    ])
    func aNamedPeriodHasTheDecreesDays(name: String, expected: StatsPeriod) throws {
        let named = try #require(NamedPeriod(name))
        #expect(named.period(in: .decree09) == expected)
        #expect(named.description == name, "the name reads back")
    }

    /// The start day is data: with calendar months the reporting periods are the calendar's, and another
    /// cut-off moves every boundary with it.
    @Test func theCutOffIsTheCalendars() throws {
        let month = try #require(NamedPeriod("report-2026-11"))
        #expect(month.period(in: .calendarMonths) == Self.period("2026-11-01", "2026-11-30"))
        #expect(month.period(in: ReportingCalendar(startDay: 20)) == Self.period("2026-10-20", "2026-11-19"))
        #expect(ReportingCalendar(startDay: 31).startDay == 28 && ReportingCalendar(startDay: 0).startDay == 1)
    }

    /// Consecutive reporting months leave no gap and no overlap, over years and for every start day.
    @Test func reportingMonthsTileTheYears() {
        for startDay in ReportingCalendar.startDays {
            let calendar = ReportingCalendar(startDay: startDay)
            var previous: StatsPeriod?
            for year in 2024...2027 {
                for month in 1...12 {
                    let period = NamedPeriod(reporting: true, year: year, span: .month(month)).period(in: calendar)
                    if let previous { #expect(previous.to.next == period.from, "start day \(startDay): \(year)-\(month)") }
                    #expect(period.from <= period.to)
                    previous = period
                }
                #expect(
                    NamedPeriod(reporting: true, year: year, span: .year).period(in: calendar)
                        == StatsPeriod(
                            from: NamedPeriod(reporting: true, year: year, span: .month(1)).period(in: calendar).from,
                            to: NamedPeriod(reporting: true, year: year, span: .month(12)).period(in: calendar).to))
            }
        }
    }

    @Test(arguments: [
        "", "report-", "26", "2026-", "2026-13", "2026-00", "2026-1", "2026-Q5", "2026-Q0", "2026-H3", "2026-8M", "report-2026-q3", "1999",
        "2101-01", "2026-11-01", "reports-2026", " 2026", "２０２６", "2026-Q１", "2026-+1", "2026--1", "report-report-2026", "2026-\u{0}1",
        "report-2026-Q3\n",
        String(repeating: "9", count: 10_000), "report-" + String(repeating: "2026-", count: 2_000),
    ])
    func aBadNameIsRefused(name: String) {
        #expect(NamedPeriod(name) == nil, "\(name)")
    }

    @Test func theReportingMonthOfADay() {
        #expect(ReportingCalendar.decree09.month(containing: Self.day("2026-12-07")).description == "report-2026-12")
        #expect(ReportingCalendar.decree09.month(containing: Self.day("2026-12-14")).description == "report-2026-12")
        #expect(ReportingCalendar.decree09.month(containing: Self.day("2026-12-15")).description == "report-2027-01")
        #expect(ReportingCalendar.decree09.month(containing: Self.day("2026-01-14")).description == "report-2026-01")
        #expect(ReportingCalendar.calendarMonths.month(containing: Self.day("2026-12-31")).description == "report-2026-12")
    }

    /// `period` or `from`/`to`, never both; a bad name names the field and what it must be.
    @Test func theAPIsPeriodParameter() throws {
        let today = Self.day("2026-12-07")
        #expect(
            try StatsPeriod.parse(period: "report-2026-Q4", from: nil, to: nil, today: today, calendar: .decree09)
                == Self.period("2026-09-15", "2026-12-14"))
        #expect(
            try StatsPeriod.parse(period: nil, from: "2026-03-10", to: "2026-09-21", today: today, calendar: .decree09)
                == Self.period("2026-03-10", "2026-09-21"))
        #expect(throws: ValidationFailure.self) {
            try StatsPeriod.parse(period: "2026", from: "2026-01-01", to: nil, today: today, calendar: .decree09)
        }
        do {
            _ = try StatsPeriod.parse(period: "2026-Q5", from: nil, to: nil, today: today, calendar: .decree09)
            Issue.record("2026-Q5 was accepted")
        } catch {
            #expect(error.errors.map(\.field) == ["period"])
        }
    }

    /// The dashboard's default: the reporting year to date. On 7 December 2026 that is from 15 December
    /// 2025; from 15 December 2026 the reporting year 2027 has begun.
    @Test func theReportingYearToDate() {
        #expect(
            StatsPeriod.reportingYearToDate(today: Self.day("2026-12-07"), calendar: .decree09) == Self.period("2025-12-15", "2026-12-07"))
        #expect(
            StatsPeriod.reportingYearToDate(today: Self.day("2026-12-14"), calendar: .decree09) == Self.period("2025-12-15", "2026-12-14"))
        #expect(
            StatsPeriod.reportingYearToDate(today: Self.day("2026-12-15"), calendar: .decree09) == Self.period("2026-12-15", "2026-12-15"))
        #expect(
            StatsPeriod.reportingYearToDate(today: Self.day("2026-12-31"), calendar: .calendarMonths) == Self.period("2026-01-01", "2026-12-31"))
    }
}
