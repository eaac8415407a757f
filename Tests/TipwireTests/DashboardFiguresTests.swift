import ChildProcesses
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import Testing
import TipwireCore
import TipwirePages
import TipwireStore

/// The figures a coordinator reported wrong, each against the definition docs/analytics.md gives it.
@Suite("Dashboard figures")
struct DashboardFiguresTests {
    /// A delivered so-nnmt task on a new finding, assigned at `assigned` (Hanoi time).
    static func task(_ history: History, _ assigned: String, agency: String = "so-nnmt") async throws -> UUID {
        let at = History.hanoi(assigned)
        let finding = try await history.finding(at: at)
        return try await history.task(finding: finding, agency: agency, assigned: at, delivered: at.addingTimeInterval(60))
    }

    /// A paused clock is never overdue: a resolve clock paused weeks before its due time, waiting on the
    /// newsroom, is not on the board, in the overview or in `/metrics`; the newsroom's late answer clock is,
    /// under the newsroom. The three agree on one count.
    @Test func aPausedClockIsNeverOverdueAndTheBoardOverviewAndMetricsAgree() async throws {
        try await Fixture.with { fixture in
            let history = History(client: fixture.client)
            // Running and late: so-nnmt's acknowledgement.
            let late = try await Self.task(history, "2026-06-01 09:00")
            try await history.clock(late, "acknowledge", started: History.hanoi("2026-06-01 09:01"), due: History.hanoi("2026-06-10 17:00"))
            // Paused on 5 June, due 30 June: waiting on the newsroom's answer, which is late since 12 June.
            let waiting = try await Self.task(history, "2026-06-02 09:00")
            let resolve = try await history.clock(
                waiting, "resolve", started: History.hanoi("2026-06-02 10:00"), due: History.hanoi("2026-06-30 17:00"))
            try await fixture.client.execute(
                "UPDATE deadlines SET state = 'paused', paused_at = \(History.hanoi("2026-06-05 09:00")) WHERE id = \(resolve)")
            let request = try await history.infoRequest(
                task: waiting, asked: History.hanoi("2026-06-05 09:00"), due: History.hanoi("2026-06-12 17:00"), answered: nil)
            try await history.answerClock(request: request, started: History.hanoi("2026-06-05 09:00"), due: History.hanoi("2026-06-12 17:00"))

            let now = Date()
            let board = try await DutyStore(client: fixture.client).overdue(at: now)
            let holders = board.groups.map { "\($0.holder.kind):\($0.holder.code)=\($0.count)" }.sorted()
            #expect(holders == ["agency:so-nnmt=1", "newsroom:tuoitre=1"])
            #expect(board.groups.flatMap(\.items).allSatisfy { $0.stage != .resolve }, "the paused resolve clock is not overdue")

            let metrics = try await StatsStore(client: fixture.client, foldsFirst: true).metricsSnapshot(now: now)
            #expect(metrics.duties.map(\.overdue).reduce(0, +) == 2)
            #expect(metrics.duties.first { $0.holderKind == "agency" && $0.stage == "resolve" }?.overdue == 0)

            try await fixture.app().test(.router) { client in
                var browser = Browser()
                #expect(try await browser.signIn(client, token: fixture.token("coordinator", "thanh-tra-tp")))
                let overview = try await browser.get(client, "/dashboard?lang=en")
                #expect(overview.text.contains(#"<dt>Overdue duties</dt><dd><a href="/dashboard/overdue">2</a>"#), "\(overview.text)")
            }
        }
    }

    /// The board counts every overdue duty of a holder and lists its oldest first, `perGroup` of them; the
    /// holder whose oldest duty is oldest comes first; clocks not yet due, met or paused are not on it.
    @Test func theBoardCountsEveryLateDutyAndListsEachHoldersOldestFirst() async throws {
        try await Fixture.with { fixture in
            let history = History(client: fixture.client)
            var dues: [String: [Date]] = [:]
            for (agency, days) in [("so-nnmt", [12, 3, 20, 7]), ("ubnd-cau-giay", [15, 2]), ("so-xay-dung", [25])] {
                for day in days {
                    let task = try await Self.task(history, "2026-05-01 09:00", agency: agency)
                    let due = History.hanoi(String(format: "2026-05-%02d 17:00", day))
                    try await history.clock(task, "acknowledge", started: History.hanoi("2026-05-01 09:01"), due: due)
                    dues[agency, default: []].append(due)
                }
            }
            // Not on the board: due later, met, paused.
            let future = try await Self.task(history, "2026-05-01 09:00")
            try await history.clock(future, "acknowledge", started: History.hanoi("2026-05-01 09:01"), due: History.hanoi("2026-07-01 17:00"))
            let met = try await Self.task(history, "2026-05-01 09:00")
            try await history.clock(
                met, "acknowledge", started: History.hanoi("2026-05-01 09:01"), due: History.hanoi("2026-05-01 17:00"),
                stopped: History.hanoi("2026-05-01 12:00"))
            let paused = try await Self.task(history, "2026-05-01 09:00")
            let clock = try await history.clock(
                paused, "resolve", started: History.hanoi("2026-05-01 09:01"), due: History.hanoi("2026-05-01 17:00"))
            try await fixture.client.execute(
                "UPDATE deadlines SET state = 'paused', paused_at = \(History.hanoi("2026-05-01 10:00")) WHERE id = \(clock)")

            let now = History.hanoi("2026-06-01 09:00")
            let board = try await DutyStore(client: fixture.client).overdue(at: now, perGroup: 2)
            #expect(board.groups.map(\.holder.code.rawValue) == ["ubnd-cau-giay", "so-nnmt", "so-xay-dung"])
            #expect(board.groups.map(\.count) == [2, 4, 1])
            for group in board.groups {
                #expect(group.items.map(\.dueAt) == Array((dues[group.holder.code.rawValue] ?? []).sorted().prefix(2)))
                #expect(group.oldestDueAt == dues[group.holder.code.rawValue]?.min())
            }
            let one = try await DutyStore(client: fixture.client).overdue(at: now, holder: PartyCode(rawValue: "so-nnmt"), perGroup: 10)
            #expect(one.groups.map(\.count) == [4] && one.groups.first?.items.count == 4)
        }
    }

    /// An agency's escalations, and so its scorecard, count only rungs on the clocks it holds: the
    /// newsroom's late answer on the agency's task is the newsroom's.
    @Test func anAgencysEscalationsCountOnlyTheClocksItHolds() async throws {
        try await Fixture.with { fixture in
            let history = History(client: fixture.client)
            let task = try await Self.task(history, "2026-03-02 09:00")
            let own = try await history.clock(task, "resolve", started: History.hanoi("2026-03-02 10:00"), due: History.hanoi("2026-03-20 17:00"))
            try await history.rung(own, 1, "overdue", at: History.hanoi("2026-03-21 00:00"))
            let request = try await history.infoRequest(
                task: task, asked: History.hanoi("2026-03-03 09:00"), due: History.hanoi("2026-03-10 17:00"), answered: nil)
            let newsrooms = try await history.answerClock(
                request: request, started: History.hanoi("2026-03-03 09:00"), due: History.hanoi("2026-03-10 17:00"))
            try await history.rung(newsrooms, 1, "overdue", at: History.hanoi("2026-03-11 00:00"))
            try await history.rung(newsrooms, 2, "escalation", at: History.hanoi("2026-03-13 00:00"))

            let stats = StatsStore(client: fixture.client, foldsFirst: true)
            let period = StatsPeriod(from: CalendarDay(year: 2026, month: 1, day: 1), to: CalendarDay(year: 2026, month: 12, day: 31))
            let report = try await stats.latency(StatsFilter(period: period, agency: PartyCode(rawValue: "so-nnmt")), scope: .everything)
            #expect(report.groups.first?.escalations == 1)
            let scorecard = try await stats.scorecard(year: 2026, scope: .everything)
            #expect(scorecard.rows.first { $0.agency == "so-nnmt" }?.figures.escalations == 1)
        }
    }

    /// "First response" is the agency's own action: the coordinator's reassignment ends the task without
    /// being one, in the fold as the events arrive and in a rebuild.
    @Test func theFirstResponseCountsOnlyTheAgencysActions() async throws {
        try await Fixture.with { fixture in
            let history = History(client: fixture.client)
            let reassigned = try await Self.task(history, "2026-04-01 09:00")
            try await history.event(reassigned, "transferred", at: History.hanoi("2026-04-02 09:00"), actor: "coordinator:thanh-tra-tp")
            let transferred = try await Self.task(history, "2026-04-01 10:00")
            try await history.event(transferred, "transferred", at: History.hanoi("2026-04-03 09:00"), actor: "agency:so-nnmt (Trần Văn B)")

            func firstResponses() async throws -> [UUID: Date?] {
                let rows = try await fixture.client.query("SELECT task_id, first_response_at FROM task_timelines")
                return Dictionary(uniqueKeysWithValues: try rows.decode((UUID, Date?).self).map { ($0.0, $0.1) })
            }
            let folded = try await firstResponses()
            #expect(folded[reassigned] == .some(nil))
            #expect(folded[transferred] == .some(History.hanoi("2026-04-03 09:00")))
            _ = try await StatsStore(client: fixture.client, foldsFirst: true).rebuildTimelines()
            #expect(try await firstResponses() == folded)

            let period = StatsPeriod(from: CalendarDay(year: 2026, month: 4, day: 1), to: CalendarDay(year: 2026, month: 4, day: 30))
            let report = try await StatsStore(client: fixture.client, foldsFirst: true).latency(
                StatsFilter(period: period, grouping: .all, minimumSample: 1), scope: .everything)
            #expect(report.groups.map(\.key) == ["all"])
            #expect(report.groups.first?[.firstResponse]?.count == 1)
            #expect(report.groups.first?.transfers == 2)
        }
    }

    /// A duty met at its due instant exactly is on time; a microsecond later it is late.
    @Test func aDutyMetExactlyAtItsDueInstantIsOnTime() async throws {
        try await Fixture.with { fixture in
            let history = History(client: fixture.client)
            let due = History.hanoi("2026-05-08 17:00")
            for (assigned, acknowledged) in [("2026-05-04 09:00", due), ("2026-05-04 10:00", due.addingTimeInterval(0.001))] {
                let task = try await Self.task(history, assigned)
                try await history.clock(task, "acknowledge", started: History.hanoi(assigned).addingTimeInterval(60), due: due)
                try await history.event(task, "acknowledged", at: acknowledged)
                try await history.meet(task, "acknowledge", at: acknowledged)
            }
            let period = StatsPeriod(from: CalendarDay(year: 2026, month: 5, day: 1), to: CalendarDay(year: 2026, month: 5, day: 31))
            let report = try await StatsStore(client: fixture.client, foldsFirst: true).latency(
                StatsFilter(period: period, minimumSample: 1), scope: .everything)
            let acknowledge = try #require(report.groups.first?[.acknowledge])
            #expect(acknowledge.judged == 2 && acknowledge.onTime == 1)
        }
    }

    /// The overview shows the period's medians to acknowledge and to resolve (those of the whole period,
    /// as `group_by=all` gives them), counts every open escalation rather than one page of them, and the
    /// escalations list's next page keeps its filter.
    @Test func theOverviewShowsMediansAndEveryOpenEscalationAndPagesKeepTheirFilter() async throws {
        try await Fixture.with { fixture in
            _ = try await LatencyTests.writeKnownHistory(fixture)
            let history = History(client: fixture.client)
            let task = try await Self.task(history, "2026-03-16 09:00")
            let clock = try await history.clock(
                task, "acknowledge", started: History.hanoi("2026-03-16 09:01"), due: History.hanoi("2026-03-18 17:00"))
            for rung in 1...167 {
                try await history.rung(clock, rung, "escalation", at: History.hanoi("2026-03-19 00:00").addingTimeInterval(Double(rung)))
            }
            // Every other one of the newest 120 is acknowledged already.
            try await fixture.client.execute(
                """
                UPDATE deadline_rungs SET acknowledged_at = raised_at, acknowledged_by = 'coordinator:thanh-tra-tp'
                WHERE deadline_id = \(clock) AND rung > 47 AND rung % 2 = 0
                """)
            let open = try await fixture.client.query(
                "SELECT count(*)::int FROM deadline_rungs WHERE kind <> 'reminder' AND acknowledged_at IS NULL")[0].decode(column: 0, as: Int.self)
            #expect(open == 167 - 60 + 1, "the known history's overdue notice is open too")
            try await fixture.app().test(.router) { client in
                let coordinator = fixture.token("coordinator", "thanh-tra-tp")
                let whole = try await client.send(.get("/v1/stats/latency?from=2026-01-01&to=2026-03-31&group_by=all&lang=en", token: coordinator))
                let groups = try #require(try whole.json()["groups"] as? [[String: Any]])
                #expect(groups.map { $0["key"] as? String } == ["all"])
                let stages = try #require(groups.first?["stages"] as? [[String: Any]])
                let acknowledge = try #require(stages.first { $0["stage"] as? String == "acknowledge" })
                let days = try #require((acknowledge["working_days"] as? [String: Any])?["p50"] as? Double)
                let hours = try #require((acknowledge["hours"] as? [String: Any])?["p50"] as? Double)
                let wording = Wording(.english)

                var browser = Browser()
                #expect(try await browser.signIn(client, token: coordinator))
                let overview = try await browser.get(client, "/dashboard?from=2026-01-01&to=2026-03-31&lang=en")
                #expect(overview.text.contains("<dt>Time to acknowledge (median)</dt><dd>\(wording.workingDays(days)) (\(wording.hours(hours)))"))
                #expect(overview.text.contains("<dt>Time to resolve (median)</dt>"))
                #expect(overview.text.contains(#"<dt>Open escalations</dt><dd><a href="/dashboard/escalations?state=open">\#(open)</a>"#))

                var seen = 0
                var path: String? = "/dashboard/escalations?state=open"
                while let next = path {
                    let page = try await browser.get(client, next)
                    #expect(page.status == .ok)
                    #expect(!page.text.contains("Acknowledged by"), "\(next) lists an acknowledged escalation")
                    seen += page.text.components(separatedBy: #"action="/dashboard/escalations/"#).count - 1
                    path = Self.nextLink(page.text)
                    #expect(path == nil || path?.hasPrefix("/dashboard/escalations?state=open&cursor=") == true, "\(path ?? "")")
                }
                #expect(seen == open)
                let unknown = try await browser.get(client, "/dashboard/escalations?state=maybe")
                #expect(unknown.status == .badRequest)
            }
        }
    }

    static func nextLink(_ page: String) -> String? {
        guard let range = page.range(of: #"<a rel="next" href=""#) else { return nil }
        return String(page[range.upperBound...].prefix { $0 != "\"" }).replacingOccurrences(of: "&amp;", with: "&")
    }

    /// The trend's month labels never run into each other, over a year and over two.
    @Test(arguments: [13, 24, 36])
    func monthLabelsUnderTheTrendNeverOverlap(months: Int) throws {
        for language in [Language.vietnamese, .english] {
            let wording = Wording(language)
            let bars = (0..<months).map { index in
                let key = String(format: "%04d-%02d", 2024 + (index + 11) / 12, (index + 11) % 12 + 1)
                let (tick, year) = wording.monthTick(key, first: index == 0)
                return Charts.Bar(label: wording.month(key), value: Double(index), text: "\(index)", tick: tick, tickSecondLine: year)
            }
            let svg = Charts.bars(id: "trend", title: "t", caption: "c", bars: bars, valueHeading: "v", labelHeading: "l")
            // Every label under the axis: its centre and its text, one row at a time.
            var rows: [String: [(x: Double, text: String)]] = [:]
            for piece in svg.components(separatedBy: #"<text x=""#).dropFirst() {
                guard piece.contains(#"text-anchor="middle""#), let x = Double(piece.prefix { $0 != "\"" }),
                    let yStart = piece.range(of: #"y=""#), let textStart = piece.range(of: ">"), let textEnd = piece.range(of: "</text>")
                else { continue }
                let y = String(piece[yStart.upperBound...].prefix { $0 != "\"" })
                rows[y, default: []].append((x, String(piece[textStart.upperBound..<textEnd.lowerBound])))
            }
            #expect(!rows.isEmpty)
            // Every year the months cover is named under the axis, even where its January is left unlabelled.
            let years = Set(bars.compactMap(\.tickSecondLine))
            let named = Set(rows.values.flatMap { $0.map(\.text) }.filter { $0.count == 4 && Int($0) != nil })
            #expect(named == years, "\(language) \(months) months: years named \(named.sorted()), covered \(years.sorted())")
            for (_, labels) in rows {
                for (left, right) in zip(labels, labels.dropFirst()) {
                    let gap = (right.x - left.x) - (Charts.estimatedTickWidth(left.text) + Charts.estimatedTickWidth(right.text)) / 2
                    #expect(gap >= 0, "\(language) \(months) months: \(left.text) runs into \(right.text)")
                }
            }
        }
    }

    /// Named periods: the API's `period`, the dashboard's picker (in both languages, defaulting to the
    /// reporting year to date), and the reporting calendar as data an admin changes, audited.
    @Test func namedPeriodsInTheAPIAndTheDashboardFollowTheReportingCalendar() async throws {
        try await Fixture.with { fixture in
            _ = try await LatencyTests.writeKnownHistory(fixture)
            try await fixture.app().test(.router) { client in
                let coordinator = fixture.token("coordinator", "thanh-tra-tp")
                func period(_ query: String) async throws -> [String: String]? {
                    let reply = try await client.send(.get("/v1/stats/latency?\(query)", token: coordinator))
                    return reply.status == .ok ? try reply.json()["period"] as? [String: String] : nil
                }
                #expect(try await period("period=report-2026-Q1") == ["from": "2025-12-15", "to": "2026-03-14"])
                #expect(try await period("period=2026-Q1") == ["from": "2026-01-01", "to": "2026-03-31"])
                // The tasks of 15 December to 14 March are the reporting quarter's, whatever their calendar month.
                let quarter = try await client.send(.get("/v1/stats/latency?period=report-2026-Q1&group_by=all&min_sample=1", token: coordinator))
                let march = try await client.send(
                    .get("/v1/stats/latency?from=2025-12-15&to=2026-03-14&group_by=all&min_sample=1", token: coordinator))
                func groups(_ reply: Reply) throws -> Data {
                    try JSONSerialization.data(withJSONObject: try #require(try reply.json()["groups"]), options: .sortedKeys)
                }
                #expect(try groups(quarter) == groups(march))
                #expect(try (quarter.json()["groups"] as? [[String: Any]])?.first?["tasks"] as? Int ?? 0 > 0)
                for bad in ["period=2026-Q5", "period=report-2026-Q1&from=2026-01-01", "period=last%20quarter"] {
                    let reply = try await client.send(.get("/v1/stats/latency?\(bad)", token: coordinator))
                    #expect(reply.status == .badRequest, "\(bad)")
                    #expect(try reply.problemFields() == ["period"], "\(bad)")
                }

                var browser = Browser()
                #expect(try await browser.signIn(client, token: coordinator))
                let today = WorkingCalendar.dayOf(Date())
                let yearToDate = StatsPeriod.reportingYearToDate(today: today, calendar: .decree09)
                for language in [Language.vietnamese, .english] {
                    let wording = Wording(language)
                    let page = try await browser.get(client, "/dashboard?lang=\(language.rawValue)")
                    #expect(page.status == .ok)
                    let shown = "\(wording["showing"]): \(yearToDate.from.formatted(language)) – \(today.formatted(language))"
                    #expect(page.text.contains(shown), "the default is the reporting year to date: \(shown)")
                    #expect(page.text.contains(#"<option value="" selected>"#))
                    #expect(page.text.contains(#"<optgroup label="\#(wording.reportingPeriods(.decree09))">"#))
                    #expect(page.text.contains(#"<option value="\#(ReportingCalendar.decree09.month(containing: today))">"#))
                    let named = try await browser.get(client, "/dashboard/agencies?period=report-2026-Q1&lang=\(language.rawValue)")
                    #expect(named.text.contains(#"<option value="report-2026-Q1" selected>"#))
                    #expect(named.text.contains("/dashboard/agencies/so-nnmt?period=report-2026-Q1"), "links keep the period")
                }
                #expect(try await browser.get(client, "/dashboard?period=2026-Q9").status == .badRequest)

                // An admin makes them calendar months: the reporting quarter is the calendar's, and the change is audited.
                let schema = try await fixture.client.query("SELECT current_schema()")[0].decode(column: 0, as: String.self)
                let url = try TestDatabase.url() + "?options=-csearch_path%3D\(schema)"
                let shown = try await runProgram(try tipwireBinary(), ["calendar", "reporting", "--database-url", url], combineErrors: true)
                #expect(shown.status == 0 && shown.output.contains("reporting months start on day 15"), "\(shown.output)")
                let set = try await runProgram(
                    try tipwireBinary(), ["calendar", "reporting", "--start-day", "1", "--database-url", url], combineErrors: true)
                #expect(set.status == 0 && set.output.contains("(calendar months)"), "\(set.output)")
                #expect(try await period("period=report-2026-Q1") == ["from": "2026-01-01", "to": "2026-03-31"])
                let calendarMonths = try await browser.get(client, "/dashboard?lang=en")
                #expect(calendarMonths.text.contains(#"<optgroup label="Reporting periods (calendar months)">"#))
                #expect(!calendarMonths.text.contains("day 15 of the month before"))
                let audited = try await fixture.client.query(
                    "SELECT actor, detail->>'start_day' FROM audit_log WHERE action = 'calendar.reporting_changed'")
                let entries = try audited.decode((String, String).self)
                #expect(entries.count == 1 && entries.first?.0.hasPrefix("operator:") == true && entries.first?.1 == "1", "\(entries)")
            }
        }
    }
}
