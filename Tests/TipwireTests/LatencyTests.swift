import ChildProcesses
import Foundation
import Fuzzing
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Prometheus
import TestSupport
import Testing
import TipwireAPI
import TipwireCore
import TipwireStore

/// Writes a task history with exact instants, as rows (the events are what the analytics read; the
/// timelines follow them by trigger).
struct History {
    let client: PostgresClient

    /// An instant in Hanoi time: `hanoi("2026-02-13 10:00")`.
    static func hanoi(_ text: String) -> Date {
        let parts = text.split(separator: " ")
        let day = CalendarDay(String(parts[0]))!
        let clock = parts[1].split(separator: ":").compactMap { Double($0) }
        return day.start.addingTimeInterval(clock[0] * 3600 + clock[1] * 60)
    }

    func finding(newsroom: String = "tuoitre", category: String = "land", jurisdiction: String = "ha-noi", at: Date) async throws -> UUID {
        let id = UUID()
        try await client.execute(
            """
            INSERT INTO findings (id, newsroom_code, article_url, title, published_at, summary, category_code, jurisdiction_code, created_at)
            VALUES (\(id), \(newsroom), 'https://tuoitre.vn/bai-viet.htm', 'Phát hiện', \(at), 'Tóm tắt', \(category), \(jurisdiction), \(at))
            """)
        return id
    }

    /// A task assigned at `assigned` and, if `delivered` is given, delivered then with its acknowledge clock
    /// due `acknowledgeDue`.
    func task(finding: UUID, agency: String, assigned: Date, delivered: Date?, acknowledgeDue: Date? = nil) async throws -> UUID {
        let id = UUID()
        try await client.execute(
            """
            INSERT INTO tasks (id, finding_id, agency_code, state, routed_by, assigned_at, deliver_by, delivered_at, updated_at)
            VALUES (\(id), \(finding), \(agency), 'delivered', 'rule', \(assigned), \(assigned.addingTimeInterval(3600)), \(delivered), \(assigned))
            """)
        try await event(id, "assigned", at: assigned)
        if let delivered {
            try await event(id, "delivered", at: delivered)
            if let acknowledgeDue { try await clock(id, "acknowledge", started: delivered, due: acknowledgeDue) }
        }
        return id
    }

    /// An event by `actor` (`agency:so-nnmt`, `coordinator:thanh-tra-tp`, …).
    func event(_ task: UUID, _ kind: String, at: Date, detail: String = "{}", actor: String = "history") async throws {
        try await client.execute(
            "INSERT INTO task_events (task_id, kind, actor, at, detail) VALUES (\(task), \(kind), \(actor), \(at), \(detail)::jsonb)")
    }

    /// A duty clock, running until `stopped` says when it was met.
    @discardableResult
    func clock(_ task: UUID, _ stage: String, started: Date, due: Date, stopped: Date? = nil) async throws -> Int64 {
        try await client.query(
            """
            INSERT INTO deadlines (task_id, stage, holder_kind, holder_code, finding_id, agency_code, newsroom_code, category_code, state,
                                   started_at, due_at, reminder_percent, step_working_days, stopped_at)
            SELECT t.id, \(stage), 'agency', t.agency_code, t.finding_id, t.agency_code, f.newsroom_code, f.category_code,
                   CASE WHEN \(stopped)::timestamptz IS NULL THEN 'running' ELSE 'met' END, \(started), \(due), 80, 2, \(stopped)
            FROM tasks t JOIN findings f ON f.id = t.finding_id WHERE t.id = \(task)
            RETURNING id
            """)[0].decode(column: 0, as: Int64.self)
    }

    /// Stops the task's open clock of `stage` at `at` (the stage was met).
    func meet(_ task: UUID, _ stage: String, at: Date) async throws {
        try await client.execute(
            "UPDATE deadlines SET state = 'met', stopped_at = \(at) WHERE task_id = \(task) AND stage = \(stage) AND state = 'running'")
    }

    func rung(_ clock: Int64, _ rung: Int, _ kind: String, at: Date) async throws {
        try await client.execute(
            """
            INSERT INTO deadline_rungs (id, deadline_id, rung, kind, audience, rung_at, raised_at, raised_by)
            VALUES (\(UUID()), \(clock), \(rung), \(kind), 'thanh-tra-tp', \(at), \(at), 'history')
            """)
    }

    /// An agency's information request to the finding's newsroom; its id.
    @discardableResult
    func infoRequest(task: UUID, asked: Date, due: Date, answered: Date?) async throws -> UUID {
        let id = UUID()
        try await client.execute(
            """
            INSERT INTO info_requests (id, task_id, finding_id, newsroom_code, agency_code, direction, questions, state, due_at, asked_by,
                                       created_at, answered_at, answered_by, answer)
            SELECT \(id), t.id, t.finding_id, f.newsroom_code, t.agency_code, 'to-newsroom', 'Xin bản gốc?',
                   CASE WHEN \(answered)::timestamptz IS NULL THEN 'open' ELSE 'answered' END, \(due), 'agency', \(asked), \(answered),
                   CASE WHEN \(answered)::timestamptz IS NULL THEN NULL ELSE 'liaison' END,
                   CASE WHEN \(answered)::timestamptz IS NULL THEN NULL ELSE 'Đây' END
            FROM tasks t JOIN findings f ON f.id = t.finding_id WHERE t.id = \(task)
            """)
        return id
    }

    /// The newsroom's answer clock of information request `request`, running from `started`; its id.
    @discardableResult
    func answerClock(request: UUID, started: Date, due: Date, state: String = "running", pausedAt: Date? = nil) async throws -> Int64 {
        try await client.query(
            """
            INSERT INTO deadlines (task_id, request_id, stage, holder_kind, holder_code, finding_id, agency_code, newsroom_code, category_code, state,
                                   started_at, due_at, reminder_percent, step_working_days, paused_at)
            SELECT r.task_id, r.id, 'newsroom_answer', 'newsroom', r.newsroom_code, r.finding_id, r.agency_code, r.newsroom_code, f.category_code,
                   \(state), \(started), \(due), 80, 2, \(pausedAt)
            FROM info_requests r JOIN findings f ON f.id = r.finding_id WHERE r.id = \(request)
            RETURNING id
            """)[0].decode(column: 0, as: Int64.self)
    }
}

@Suite("Latency analytics")
struct LatencyTests {
    static let period = StatsPeriod(from: CalendarDay(year: 2026, month: 1, day: 1), to: CalendarDay(year: 2026, month: 3, day: 31))

    /// so-nnmt's ten tasks: delivered, then acknowledged (Hanoi time). Hours and working days by hand,
    /// on the 2026 calendar: Tết is 14–22 February (a Saturday to the next Sunday).
    static let acknowledged: [(delivered: String, acknowledged: String, hours: Double, workingDays: Double)] = [
        ("2026-02-13 10:00", "2026-02-23 09:00", 239, 1),  // Friday before Tết → the Monday after: only the 23rd counts
        ("2026-01-09 16:00", "2026-01-12 08:00", 64, 1),  // across a weekend
        ("2026-01-12 09:00", "2026-01-12 15:00", 6, 0),  // the same day
        ("2026-01-13 09:00", "2026-01-15 09:00", 48, 2),
        ("2026-01-14 09:00", "2026-01-21 09:00", 168, 5),
        ("2026-02-12 09:00", "2026-02-24 09:00", 288, 3),  // 13th, 23rd, 24th
        ("2026-03-02 09:00", "2026-03-02 09:30", 0.5, 0),
        ("2026-03-02 10:00", "2026-03-03 10:00", 24, 1),
        ("2026-03-04 09:00", "2026-03-13 17:00", 224, 7),
        ("2026-03-05 09:00", "2026-03-19 09:00", 336, 10),  // past the 7 working days: late
    ]
    /// Minutes from assignment to delivery, task by task.
    static let deliveryMinutes: [Double] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 60]

    /// Writes the known history; returns the so-nnmt tasks.
    static func writeKnownHistory(_ fixture: Fixture) async throws -> [UUID] {
        let history = History(client: fixture.client)
        let calendar = try await CalendarStore(client: fixture.client).load()
        var tasks: [UUID] = []
        var findings: [UUID] = []
        for (index, row) in acknowledged.enumerated() {
            let delivered = History.hanoi(row.delivered)
            let assigned = delivered.addingTimeInterval(-deliveryMinutes[index] * 60)
            let finding = try await history.finding(at: assigned)
            let task = try await history.task(
                finding: finding, agency: "so-nnmt", assigned: assigned, delivered: delivered,
                acknowledgeDue: calendar.adding(workingDays: 7, to: delivered))
            let acknowledgedAt = History.hanoi(row.acknowledged)
            try await history.event(task, "acknowledged", at: acknowledgedAt)
            try await history.meet(task, "acknowledge", at: acknowledgedAt)
            tasks.append(task)
            findings.append(finding)
        }
        // The first four are resolved (too few for figures); the first was extended once.
        for (index, task) in tasks.prefix(4).enumerated() {
            let acknowledgedAt = History.hanoi(acknowledged[index].acknowledged)
            try await history.clock(task, "resolve", started: acknowledgedAt, due: acknowledgedAt.addingTimeInterval(30 * 86_400))
            if index == 0 { try await history.event(task, "extended", at: acknowledgedAt.addingTimeInterval(3600), detail: #"{"days": 10}"#) }
            let resolvedAt = acknowledgedAt.addingTimeInterval(Double(index + 1) * 86_400)
            try await history.event(task, "resolved", at: resolvedAt)
            try await history.meet(task, "resolve", at: resolvedAt)
        }
        // An overdue notice on the late one.
        let late = try await fixture.client.query("SELECT id FROM deadlines WHERE task_id = \(tasks[9]) AND stage = 'acknowledge'")[0]
            .decode(column: 0, as: Int64.self)
        try await history.rung(late, 1, "overdue", at: History.hanoi("2026-03-14 00:00"))
        // ubnd-cau-giay holds two of the same findings: it declines one and leaves the other.
        let declined = try await history.task(
            finding: findings[0], agency: "ubnd-cau-giay", assigned: History.hanoi("2026-02-13 09:59"), delivered: History.hanoi("2026-02-13 10:00"))
        try await history.event(declined, "declined", at: History.hanoi("2026-02-16 10:00"))
        _ = try await history.task(
            finding: findings[1], agency: "ubnd-cau-giay", assigned: History.hanoi("2026-01-09 15:59"), delivered: History.hanoi("2026-01-09 16:00"))
        // The City Police joined on 1 March: its task from February is left out, and so is its finding.
        try await fixture.client.execute("UPDATE agencies SET joined_at = \(History.hanoi("2026-03-01 00:00")) WHERE code = 'cong-an-tp'")
        let early = try await history.finding(at: History.hanoi("2026-02-02 09:00"))
        _ = try await history.task(
            finding: early, agency: "cong-an-tp", assigned: History.hanoi("2026-02-02 09:00"), delivered: History.hanoi("2026-02-02 09:01"))
        // tuoitre answered so-nnmt's question from Friday afternoon on Tuesday morning: 90 hours, 2 working days.
        try await history.infoRequest(
            task: tasks[6], asked: History.hanoi("2026-03-06 16:00"), due: calendar.adding(workingDays: 5, to: History.hanoi("2026-03-06 16:00")),
            answered: History.hanoi("2026-03-10 10:00"))
        return tasks
    }

    @Test func everyFigureOfAKnownHistoryMatchesTheHandComputedValue() async throws {
        try await Fixture.with { fixture in
            _ = try await Self.writeKnownHistory(fixture)
            let now = History.hanoi("2026-03-20 12:00")
            // Hand-computed hours are exact: the exact path's. The rollups' equal them within 1%.
            let report = try await fixture.stores.stats.latency(StatsFilter(period: Self.period), scope: .everything, source: .exact, now: now)
            let rolledUp = try await fixture.stores.stats.latency(StatsFilter(period: Self.period), scope: .everything, now: now)
            #expect(RollupComparison(rollups: rolledUp, exact: report).mismatches == [])
            #expect(rolledUp.hoursRelativeAccuracy == 0.01 && rolledUp.figuresAsOf != nil && report.figuresAsOf == nil)
            #expect(report.groups.map(\.key) == ["so-nnmt", "ubnd-cau-giay"], "cong-an-tp's task came before it joined")
            let nnmt = try #require(report.groups.first)
            #expect(nnmt.tasks == 10)
            #expect(!nnmt.insufficientData)

            let deliver = try #require(nnmt[.deliver])
            #expect(deliver.count == 10)
            // Nearest rank over ten: p50 is the 5th value, p90 the 9th, p99 the 10th.
            #expect(deliver.hours == Quantiles(p50: 5.0 / 60, p90: 9.0 / 60, p99: 1))
            #expect(deliver.workingDays == Quantiles(p50: 0, p90: 0, p99: 0))
            #expect(deliver.judged == 10 && deliver.onTime == 10 && deliver.onTimeShare == 1)

            // Hours sorted: 0.5 6 24 48 64 168 224 239 288 336; working days sorted: 0 0 1 1 1 2 3 5 7 10.
            let acknowledge = try #require(nnmt[.acknowledge])
            #expect(acknowledge.count == 10)
            #expect(acknowledge.hours == Quantiles(p50: 64, p90: 288, p99: 336))
            #expect(acknowledge.workingDays == Quantiles(p50: 1, p90: 7, p99: 10))
            #expect(acknowledge.judged == 10 && acknowledge.onTime == 9 && acknowledge.onTimeShare == 0.9)
            #expect(!acknowledge.insufficientData)
            #expect(nnmt[.firstResponse]?.hours == acknowledge.hours)
            #expect(nnmt[.firstResponse]?.workingDays == acknowledge.workingDays)

            // Four resolved: fewer than ten, so the numbers are withheld.
            let resolve = try #require(nnmt[.resolve])
            #expect(
                resolve.count == 4 && resolve.insufficientData && resolve.hours == nil && resolve.workingDays == nil && resolve.onTimeShare == nil)
            #expect(resolve.judged == 4 && resolve.onTime == 4)

            // Open: tasks 5 to 10, assigned 14 Jan (65 days before 20 March), 12 Feb (36), 2 Mar (18, twice), 4 Mar (16), 5 Mar (15).
            #expect(nnmt.backlog == [.upTo7Days: 0, .upTo30Days: 4, .upTo90Days: 2, .over90Days: 0])
            #expect(nnmt.extensions == 1 && nnmt.transfers == 0 && nnmt.declines == 0 && nnmt.escalations == 1)
            #expect(nnmt.accountedFor == 4 && nnmt.accountedShare == 0.4)

            let ward = report.groups[1]
            #expect(ward.tasks == 2 && ward.insufficientData && ward.accountedShare == nil)
            #expect(ward.declines == 1 && ward.accountedFor == 1 && ward.openTasks == 1)

            // Ten findings; all tasks ended on findings 1, 3 and 4 (finding 2's ward task is open).
            #expect(report.findings == FindingsAccounted(received: 10, accountedFor: 3))

            let answers = try #require(report.newsroomAnswers.first)
            #expect(report.newsroomAnswers.count == 1 && answers.newsroom.rawValue == "tuoitre" && answers.asked == 1)
            #expect(answers.answer.count == 1 && answers.answer.judged == 1 && answers.answer.onTime == 1 && answers.answer.insufficientData)
            // With a sample of one allowed, the figures show: 90 hours, 2 working days.
            var one = StatsFilter(period: Self.period)
            one.minimumSample = 1
            let shown = try await fixture.stores.stats.latency(one, scope: .everything, source: .exact, now: now)
            #expect(shown.newsroomAnswers.first?.answer.hours == Quantiles(p50: 90, p90: 90, p99: 90))
            #expect(shown.newsroomAnswers.first?.answer.workingDays == Quantiles(p50: 2, p90: 2, p99: 2))
            // Resolved one to four days after acknowledgement.
            let resolved = try #require(shown.groups.first?[.resolve])
            let resolveHours = (0..<4).map { Self.acknowledged[$0].hours + Double($0 + 1) * 24 }.sorted()
            #expect(resolved.hours == Quantiles(p50: resolveHours[1], p90: resolveHours[3], p99: resolveHours[3]))

            // By month of assignment: January 4 tasks, February 2, March 4 for so-nnmt; the ward's two in January and February.
            var monthly = StatsFilter(period: Self.period, grouping: .month)
            monthly.agency = PartyCode(rawValue: "so-nnmt")
            let months = try await fixture.stores.stats.latency(monthly, scope: .everything, now: now)
            #expect(months.groups.map(\.key) == ["2026-01", "2026-02", "2026-03"])
            #expect(months.groups.map(\.tasks) == [4, 2, 4])

            // An agency sees only its own row; asking for another is refused; a liaison sees only its answer times.
            let own = try await fixture.stores.stats.latency(
                StatsFilter(period: Self.period), scope: .agency(PartyCode(rawValue: "ubnd-cau-giay")!), now: now)
            #expect(own.groups.map(\.key) == ["ubnd-cau-giay"])
            await #expect(throws: StatsRefusal.unknown(field: "agency", code: "so-nnmt")) {
                _ = try await fixture.stores.stats.latency(
                    StatsFilter(period: Self.period, agency: PartyCode(rawValue: "so-nnmt")), scope: .agency(PartyCode(rawValue: "ubnd-cau-giay")!),
                    now: now)
            }
            let liaison = try await fixture.stores.stats.latency(
                StatsFilter(period: Self.period), scope: .newsroom(PartyCode(rawValue: "vnexpress")!), now: now)
            #expect(liaison.groups.isEmpty && liaison.findings == nil && liaison.newsroomAnswers.isEmpty)
        }
    }

    @Test func timelinesRebuiltFromTheEventsAreTheOnesTheTriggerKept() async throws {
        try await Fixture.with { fixture in
            _ = try await Self.writeKnownHistory(fixture)
            let columns =
                "task_id, agency_code, assigned_at, deliver_by, delivered_at, acknowledged_at, first_response_at, resolved_at, declined_at, transferred_at, ended_at, ended_as, extensions, acknowledge_due_at, resolve_due_at"
            let before = try await fixture.client.query(
                "SELECT md5(string_agg(t::text, ',' ORDER BY task_id)) FROM (SELECT \(unescaped: columns) FROM task_timelines) t")[0]
                .decode(column: 0, as: String.self)
            let rebuilt = try await fixture.client.query("SELECT task_timelines_rebuild()")[0].decode(column: 0, as: Int.self)
            let after = try await fixture.client.query(
                "SELECT md5(string_agg(t::text, ',' ORDER BY task_id)) FROM (SELECT \(unescaped: columns) FROM task_timelines) t")[0]
                .decode(column: 0, as: String.self)
            #expect(rebuilt == 13)
            #expect(before == after)
        }
    }

    /// A seeded random history over half a year: every lifecycle path (delivered or not, acknowledged,
    /// extended, transferred, declined then closed, resolved, reopened and resolved again), duty clocks,
    /// overdue notices and information requests, across five agencies (one of which joined late).
    static func writeRandomHistory(_ fixture: Fixture, seed: UInt64, tasks count: Int) async throws {
        var random = SeededGenerator(seed: seed)
        let history = History(client: fixture.client)
        try await fixture.client.execute("UPDATE agencies SET joined_at = \(History.hanoi("2026-03-01 00:00")) WHERE code = 'cong-an-tp'")
        let agencies = ["so-nnmt", "so-xay-dung", "ubnd-cau-giay", "ubnd-dong-da", "cong-an-tp"]
        let start = History.hanoi("2025-12-20 00:00")
        for _ in 0..<count {
            var at = start.addingTimeInterval(Double.random(in: 0...(200 * 86_400), using: &random))
            func later(_ hours: ClosedRange<Double>) -> Date {
                at = at.addingTimeInterval(Double.random(in: hours, using: &random) * 3600)
                return at
            }
            let finding = try await history.finding(
                newsroom: Bool.random(using: &random) ? "tuoitre" : "vnexpress",
                category: ["land", "construction", "budget"].randomElement(using: &random)!,
                at: at)
            let assigned = at
            let delivered: Date? = Double.random(in: 0..<1, using: &random) < 0.95 ? later(0...2) : nil
            let task = try await history.task(
                finding: finding, agency: agencies.randomElement(using: &random)!, assigned: assigned, delivered: delivered,
                acknowledgeDue: delivered.map { $0.addingTimeInterval(Double.random(in: 24...300, using: &random) * 3600) })
            guard delivered != nil else { continue }
            let roll = Double.random(in: 0..<1, using: &random)
            if roll < 0.05 {
                try await history.event(task, "declined", at: later(1...200))
                if Bool.random(using: &random) { try await history.event(task, "closed", at: later(1...100)) }
                continue
            }
            if roll < 0.1 {
                // Half are the coordinator's reassignments, which are not the agency's response.
                let actor = Bool.random(using: &random) ? "coordinator:thanh-tra-tp" : "history"
                try await history.event(task, "transferred", at: later(1...200), actor: actor)
                continue
            }
            if roll < 0.25 { continue }  // never acknowledged
            let acknowledged = later(0...400)
            try await history.event(task, "acknowledged", at: acknowledged)
            try await history.meet(task, "acknowledge", at: acknowledged)
            let resolveClock = try await history.clock(
                task, "resolve", started: acknowledged, due: acknowledged.addingTimeInterval(Double.random(in: 100...900, using: &random) * 3600))
            if Bool.random(using: &random) { try await history.event(task, "started", at: later(1...48)) }
            if Double.random(in: 0..<1, using: &random) < 0.3 {
                try await history.event(task, "extended", at: later(1...100), detail: #"{"days": 10}"#)
            }
            if Double.random(in: 0..<1, using: &random) < 0.2 {
                try await history.rung(resolveClock, 1, Bool.random(using: &random) ? "overdue" : "escalation", at: later(1...10))
            }
            if Double.random(in: 0..<1, using: &random) < 0.2 {
                let asked = later(1...100)
                let answered: Date? = Double.random(in: 0..<1, using: &random) < 0.8 ? later(1...200) : nil
                let request = try await history.infoRequest(task: task, asked: asked, due: asked.addingTimeInterval(7 * 86_400), answered: answered)
                // The newsroom's late answer raises a rung on its own clock: the newsroom's lateness, not the agency's.
                if answered == nil {
                    let clock = try await history.answerClock(request: request, started: asked, due: asked.addingTimeInterval(7 * 86_400))
                    try await history.rung(clock, 1, "overdue", at: asked.addingTimeInterval(8 * 86_400))
                }
            }
            guard Double.random(in: 0..<1, using: &random) < 0.6 else { continue }
            let resolved = later(1...900)
            try await history.event(task, "resolved", at: resolved)
            try await history.meet(task, "resolve", at: resolved)
            if Double.random(in: 0..<1, using: &random) < 0.1 {
                try await history.event(task, "reopened", at: later(1...100))
                if Bool.random(using: &random) { try await history.event(task, "resolved", at: later(1...100)) }
            }
        }
    }

    @Test func theRollupsEqualTheExactPathForEveryGroupAndPeriodAndAgainAfterARebuild() async throws {
        try await Fixture.with { fixture in
            try await Self.writeRandomHistory(fixture, seed: 30, tasks: 300)
            let now = History.hanoi("2026-07-20 12:00")
            let calendar = try await fixture.stores.stats.reportingCalendar()
            let periods =
                try ["report-2026-Q1", "2026-Q2", "report-2026-03", "report-2026-H1", "2026"].map {
                    try StatsPeriod.parse(period: $0, from: nil, to: nil, today: WorkingCalendar.dayOf(now), calendar: calendar)
                } + [StatsPeriod(from: CalendarDay(year: 2026, month: 1, day: 7), to: CalendarDay(year: 2026, month: 5, day: 19))]
            let agency = try #require(PartyCode(rawValue: "so-nnmt"))
            let jurisdiction = try #require(PartyCode(rawValue: "ha-noi"))
            var filters: [StatsFilter] = []
            for period in periods {
                for grouping in StatsGrouping.allCases {
                    filters.append(StatsFilter(period: period, grouping: grouping, minimumSample: 1))
                    filters.append(StatsFilter(period: period, grouping: grouping, category: "land", minimumSample: 1))
                }
                for grouping in [StatsGrouping.agency, .month, .all] {
                    filters.append(StatsFilter(period: period, grouping: grouping, agency: agency, minimumSample: 1))
                }
                filters.append(StatsFilter(period: period, grouping: .jurisdiction, jurisdiction: jurisdiction, minimumSample: 1))
            }
            func compareAll(_ moment: String) async throws {
                var groups = 0
                for filter in filters {
                    let rolledUp = try await fixture.stores.stats.latency(filter, scope: .everything, now: now)
                    let exact = try await fixture.stores.stats.latency(filter, scope: .everything, source: .exact, now: now)
                    let comparison = RollupComparison(rollups: rolledUp, exact: exact)
                    #expect(comparison.mismatches == [], "\(moment): \(filter.period) by \(filter.grouping)")
                    groups += exact.groups.count
                }
                #expect(groups > 200, "\(moment): too few groups compared")
            }
            try await compareAll("folded in step")
            // Changes after the first fold reach the sums through the stale days their writes mark, each kind of
            // write on its own: clocks moved, rungs raised, open tasks resolved.
            let stale = StatsRollups(client: fixture.service)
            try await fixture.client.execute(
                """
                UPDATE deadlines SET due_at = started_at
                WHERE id IN (SELECT id FROM deadlines WHERE stage IN ('acknowledge', 'resolve') AND state = 'met' ORDER BY id LIMIT 40)
                """)
            #expect(try await stale.pending(), "moving clocks marked days stale")
            try await compareAll("after clocks moved")
            let history = History(client: fixture.client)
            let clocks = try await fixture.client.query(
                "SELECT id, due_at FROM deadlines WHERE holder_kind = 'agency' ORDER BY id DESC LIMIT 10"
            ).decode((Int64, Date).self)
            for (clock, due) in clocks { try await history.rung(clock, 9, "escalation", at: due.addingTimeInterval(86_400)) }
            #expect(try await stale.pending(), "rungs marked days stale")
            try await compareAll("after rungs raised")
            let open = try await fixture.client.query(
                "SELECT task_id, assigned_at FROM task_timelines WHERE ended_at IS NULL AND delivered_at IS NOT NULL ORDER BY task_id LIMIT 25"
            ).decode((UUID, Date).self)
            for (task, assigned) in open { try await history.event(task, "resolved", at: assigned.addingTimeInterval(9 * 86_400)) }
            #expect(try await stale.pending(), "events marked days stale")
            try await compareAll("after later events")
            // A finding is settled on its first task's day. A task added a month later unsettles it, and that
            // task's end settles it again: each marks the first task's day, not only its own.
            let settled = try await fixture.client.query(
                """
                SELECT tl.finding_id, tl.agency_code, tl.assigned_at FROM task_timelines tl
                WHERE tl.ended_at IS NOT NULL AND tl.agency_code <> 'so-xay-dung' AND tl.assigned_at < \(History.hanoi("2026-05-01 00:00"))
                ORDER BY tl.task_id LIMIT 12
                """
            ).decode((UUID, String, Date).self)
            var added: [(UUID, Date)] = []
            for (finding, _, assigned) in settled {
                let later = assigned.addingTimeInterval(35 * 86_400)
                let task = try await history.task(finding: finding, agency: "so-xay-dung", assigned: later, delivered: later.addingTimeInterval(3600))
                added.append((task, later))
            }
            #expect(try await stale.pending(), "added tasks marked days stale")
            try await compareAll("after tasks added to settled findings")
            for (task, assigned) in added { try await history.event(task, "resolved", at: assigned.addingTimeInterval(5 * 86_400)) }
            try await compareAll("after the added tasks ended")
            // A rollup damaged by hand is put right by a rebuild from the events.
            try await fixture.client.execute("UPDATE stats_rollup_groups SET tasks = tasks + 7 WHERE level = 3")
            try await fixture.client.execute("DELETE FROM stats_rollup_stages WHERE level = 0 AND dimension = 'agency'")
            try await DatabaseScope.system { try await StatsRollups(client: fixture.service).rebuild(now: now) }
            try await compareAll("rebuilt")
            #expect(try await StatsRollups(client: fixture.service).pending() == false)
        }
    }

    /// Until the rollups have been folded once (a database just migrated), reports are exact, and say so.
    @Test func beforeTheFirstFoldReportsTakeTheExactPath() async throws {
        try await Fixture.with { fixture in
            try await Self.writeRandomHistory(fixture, seed: 33, tasks: 60)
            let now = History.hanoi("2026-07-20 12:00")
            let filter = StatsFilter(period: try StatsPeriod.year(2026), minimumSample: 1)
            let unfolded = StatsStore(client: fixture.client)
            let early = try await unfolded.latency(filter, scope: .everything, now: now)
            let exact = try await unfolded.latency(filter, scope: .everything, source: .exact, now: now)
            #expect(early == exact && early.figuresAsOf == nil && early.hoursRelativeAccuracy == 0)
            let agency = StatsFilter(period: filter.period, agency: PartyCode(rawValue: "so-nnmt"))
            let distribution = try await unfolded.acknowledgeDistribution(agency, now: now)
            #expect(distribution.map(\.tasks).reduce(0, +) == early.groups.first { $0.key == "so-nnmt" }?[.acknowledge]?.count)
            try await DatabaseScope.system { try await StatsRollups(client: fixture.service).foldAll(now: now) }
            let folded = try await unfolded.latency(filter, scope: .everything, now: now)
            #expect(folded.figuresAsOf != nil && folded.hoursRelativeAccuracy == 0.01)
            #expect(RollupComparison(rollups: folded, exact: exact).mismatches == [])
        }
    }

    @Test func aDayMarkedManyTimesIsFoldedOnceAndARangeASliceAtATime() async throws {
        try await Fixture.with { fixture in
            try await Self.writeRandomHistory(fixture, seed: 31, tasks: 40)
            let rollups = StatsRollups(client: fixture.service)
            try await DatabaseScope.system { try await rollups.foldAll() }
            let folded = try #require(try await rollups.watermark())
            // A bulk load leaves a mark per statement: ten thousand on one day are one day to fold.
            let day = CalendarDay(year: 2026, month: 2, day: 10).number
            try await fixture.client.execute(
                "INSERT INTO stats_rollup_dirty (first_day, last_day) SELECT \(day), \(day) FROM generate_series(1, 10000)")
            let once = try await DatabaseScope.system { try await rollups.fold(maximumDays: 1) }
            #expect(once.days == 1 && !once.more)
            #expect(try await rollups.pending() == false)
            #expect(try #require(try await rollups.watermark()) > folded)
            // A range of ten days, four at a time: the watermark waits until the last slice.
            try await fixture.client.execute("INSERT INTO stats_rollup_dirty (first_day, last_day) VALUES (\(day), \(day + 9))")
            let slices = try await DatabaseScope.system {
                [try await rollups.fold(maximumDays: 4), try await rollups.fold(maximumDays: 4), try await rollups.fold(maximumDays: 4)]
            }
            #expect(slices.map(\.days) == [4, 4, 2] && slices.map(\.more) == [true, true, false])
            #expect(try await rollups.pending() == false)
        }
    }

    @Test func theEndpointAgreesWithAPythonScriptReadingTheTaskEvents() async throws {
        try await Fixture.with { fixture in
            try await Self.writeRandomHistory(fixture, seed: 14, tasks: 400)
            let schema = try await fixture.client.query("SELECT current_schema()")[0].decode(column: 0, as: String.self)
            // A range of days, and named periods: the script works out their days itself.
            let periods: [(query: String, script: [String], groups: Int)] = [
                ("from=2026-01-01&to=2026-06-30", ["2026-01-01", "2026-06-30"], 5), ("period=report-2026-Q1", ["report-2026-Q1", "-"], 5),
                ("period=report-2026-H1", ["report-2026-H1", "-"], 5), ("period=2026-Q2", ["2026-Q2", "-"], 5),
                ("period=report-2026-03", ["report-2026-03", "-"], 5), ("period=report-2026", ["report-2026", "-"], 5),
            ]
            for (query, arguments, groupCount) in periods {
                try await fixture.app().test(.router) { client in
                    try await Self.compareWithTheScript(client, fixture, schema: schema, query: query, arguments: arguments, groups: groupCount)
                }
            }
        }
    }

    /// The report for `query` against check_latency.py's for `arguments` (its FROM and TO).
    static func compareWithTheScript(
        _ client: some TestClientProtocol, _ fixture: Fixture, schema: String, query: String, arguments: [String], groups groupCount: Int
    ) async throws {
        let reply = try await client.send(
            .get("/v1/stats/latency?\(query)&min_sample=1", token: fixture.token("coordinator", "thanh-tra-tp")))
        #expect(reply.status == .ok, "\(reply.text.prefix(500))")
        let api = try reply.json()
        let asOf = try #require(api["as_of"] as? String)
        let script = repositoryRoot.appendingPathComponent("Tests/TipwireTests/check_latency.py").path
        let result = try await runProgram(
            "/usr/bin/env", ["python3", script, try TestDatabase.url(), schema] + arguments + [asOf])
        try #require(result.status == 0, "check_latency.py: \(result.errors)")
        let python = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let expectedGroups = try #require(python["groups"] as? [String: [String: Any]])
        let groups = try #require(api["groups"] as? [[String: Any]])
        #expect(Set(groups.compactMap { $0["key"] as? String }) == Set(expectedGroups.keys), "\(query)")
        #expect(expectedGroups.count == groupCount, "\(query)")
        var compared = 0
        for group in groups {
            let key = try #require(group["key"] as? String)
            let expected = try #require(expectedGroups[key])
            for field in ["tasks", "extensions", "transfers", "declines", "escalations"] {
                #expect(group[field] as? Int == expected[field] as? Int, "\(key) \(field)")
            }
            #expect(group["accounted_for"] as? Int == expected["accounted"] as? Int, "\(key) accounted_for")
            #expect(group["backlog"] as? [String: Int] == expected["backlog"] as? [String: Int], "\(key) backlog")
            let stages = try #require(expected["stages"] as? [String: [String: Any]])
            for stage in try #require(group["stages"] as? [[String: Any]]) {
                let name = try #require(stage["stage"] as? String)
                compared += try Self.compare(stage, try #require(stages[name]), "\(key) \(name)")
            }
        }
        let expectedFindings = try #require(python["findings"] as? [String: Int])
        let findings = try #require(api["findings"] as? [String: Any])
        #expect(findings["received"] as? Int == expectedFindings["received"])
        #expect(findings["accounted_for"] as? Int == expectedFindings["accounted_for"])
        let expectedAnswers = try #require(python["newsroom_answers"] as? [String: [String: Any]])
        let answers = try #require(api["newsroom_answers"] as? [[String: Any]])
        #expect(answers.count == expectedAnswers.count && !answers.isEmpty)
        for answer in answers {
            let code = try #require(answer["newsroom"] as? String)
            let expected = try #require(expectedAnswers[code])
            #expect(answer["asked"] as? Int == expected["asked"] as? Int)
            compared += try Self.compare(
                try #require(answer["answer"] as? [String: Any]), try #require(expected["answer"] as? [String: Any]), "\(code) answers")
        }
        #expect(compared >= 8, "\(query): too few figures compared")
    }

    /// One stage's figures from the API against the script's; returns 1 when quantiles were compared.
    static func compare(_ stage: [String: Any], _ expected: [String: Any], _ label: String) throws -> Int {
        for field in ["count", "judged", "on_time"] {
            #expect(stage[field] as? Int == expected[field] as? Int, "\(label) \(field)")
        }
        var compared = 0
        for field in ["hours", "working_days"] {
            let values = stage[field] as? [String: Double]
            let reference = expected[field] as? [Double]
            #expect((values == nil) == (reference == nil), "\(label) \(field)")
            guard let values, let reference else { continue }
            // Hours from the rollups are within 1% (a span under a second reads as zero); working days are exact.
            let tolerance = field == "hours" ? HourBuckets.relativeAccuracy : 0
            for (name, value) in zip(["p50", "p90", "p99"], reference) {
                let ours = values[name] ?? .nan
                let close = abs(ours - value) <= tolerance * value + 1e-6 || (field == "hours" && value < HourBuckets.smallest && ours == 0)
                #expect(close, "\(label) \(field) \(name): \(ours) vs \(value)")
            }
            compared = 1
        }
        return compared
    }

    @Test func badQueriesAnswerProblemsNamingTheField() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let coordinator = fixture.token("coordinator", "thanh-tra-tp")
                let cases: [(String, String, [String])] = [
                    ("from=2026-03-01&to=2026-02-01", coordinator, ["to"]),
                    ("from=1999-12-31", coordinator, ["from"]),
                    ("to=2026-02-30", coordinator, ["to"]),
                    ("from=2000-01-01&to=2026-01-01", coordinator, ["to"]),
                    ("lang=fr", coordinator, ["lang"]),
                    ("group_by=mood", coordinator, ["group_by"]),
                    ("min_sample=0", coordinator, ["min_sample"]),
                    ("agency=no-such-agency", coordinator, ["agency"]),
                    ("agency=NOT%20A%20CODE", coordinator, ["agency"]),
                    ("category=weather", coordinator, ["category"]),
                    ("jurisdiction=sai-gon", coordinator, ["jurisdiction"]),
                    ("agency=so-nnmt", fixture.token("agency", "so-xay-dung"), ["agency"]),
                    ("from=%00", coordinator, ["from"]),
                ]
                for (query, token, fields) in cases {
                    let reply = try await client.send(.get("/v1/stats/latency?\(query)", token: token))
                    #expect(reply.status == .badRequest, "\(query): \(reply.status) \(reply.text.prefix(300))")
                    #expect(try reply.problemFields() == fields, "\(query)")
                }
                let admin = try await client.send(.get("/v1/stats/latency", token: fixture.token("admin")))
                #expect(admin.status == .forbidden)
            }
        }
    }

    @Test func metricsShowOpenAndOverdueDutiesAndLatencyHistogramsByAgency() async throws {
        try await Fixture.with { fixture in
            _ = try await Self.writeKnownHistory(fixture)
            try await fixture.app().test(.router) { client in
                let text = try await client.send(.get("/metrics", token: nil)).text
                // so-nnmt's ten acknowledgements: 6 hours and 30 minutes are within 8 hours, 24 within a day, ...
                #expect(text.contains("# TYPE tipwire_task_acknowledge_latency_seconds histogram"))
                #expect(text.contains(#"tipwire_task_acknowledge_latency_seconds_bucket{agency="so-nnmt",le="3600"} 1"#))
                #expect(text.contains(#"tipwire_task_acknowledge_latency_seconds_bucket{agency="so-nnmt",le="28800"} 2"#))
                #expect(text.contains(#"tipwire_task_acknowledge_latency_seconds_bucket{agency="so-nnmt",le="86400"} 3"#))
                #expect(text.contains(#"tipwire_task_acknowledge_latency_seconds_bucket{agency="so-nnmt",le="+Inf"} 10"#))
                #expect(text.contains(#"tipwire_task_acknowledge_latency_seconds_count{agency="so-nnmt"} 10"#))
                #expect(text.contains(#"tipwire_task_resolve_latency_seconds_count{agency="so-nnmt"} 4"#))
                // No clock of the history is still open but the ward's and the police's (which have none): nothing open.
                #expect(text.contains("# TYPE tipwire_duties_open gauge"))
                #expect(text.contains("# TYPE tipwire_duties_overdue gauge"))
            }
            // A running clock past due shows as open and overdue.
            let history = History(client: fixture.client)
            let finding = try await history.finding(at: History.hanoi("2026-01-05 09:00"))
            _ = try await history.task(
                finding: finding, agency: "so-xay-dung", assigned: History.hanoi("2026-01-05 09:00"), delivered: History.hanoi("2026-01-05 09:01"),
                acknowledgeDue: History.hanoi("2026-01-14 00:00"))
            let fresh = fixture.dependencies
            try await Application(router: buildRouter(dependencies: fresh, checks: [], registry: PrometheusCollectorRegistry(), version: "test"))
                .test(.router) {
                    client in
                    let text = try await client.send(.get("/metrics", token: nil)).text
                    #expect(text.contains(#"tipwire_duties_open{holder_kind="agency",stage="acknowledge"} 1"#))
                    #expect(text.contains(#"tipwire_duties_overdue{holder_kind="agency",stage="acknowledge"} 1"#))
                }
        }
    }

    /// The pipeline's lag in /metrics: events not yet in Kafka and rungs not yet raised, with the age of the oldest.
    @Test func metricsShowThePipelinesBacklog() async throws {
        try await Fixture.with { fixture in
            let empty = try await DatabaseScope.system { try await fixture.stores.stats.metricsSnapshot() }.backlog
            #expect(empty == .init(unsentEvents: 0, oldestUnsentSeconds: 0, dueRungs: 0, oldestDueRungSeconds: 0))
            try await fixture.client.query(
                """
                INSERT INTO outbox (ce_id, ce_type, ce_subject, topic, message_key, payload, created_at)
                VALUES (gen_random_uuid(), 'vn.tipwire.finding.received.v1', 'f', 'tipwire.findings', 'k', '{}', now() - interval '10 minutes'),
                       (gen_random_uuid(), 'vn.tipwire.finding.received.v1', 'g', 'tipwire.findings', 'k', '{}', now() - interval '1 minute')
                """)
            // Rungs due 5 and 2 minutes ago, one in an hour, and a stopped ladder (no next rung).
            try await fixture.client.query(
                """
                INSERT INTO deadline_timers (deadline_id, next_rung, next_at)
                VALUES (-1, 0, now() - interval '5 minutes'), (-2, 1, now() - interval '2 minutes'), (-3, 0, now() + interval '1 hour'), (-4, 2, NULL)
                """)
            let backlog = try await DatabaseScope.system { try await fixture.stores.stats.metricsSnapshot() }.backlog
            #expect(backlog.unsentEvents == 2 && backlog.dueRungs == 2)
            #expect((600..<660).contains(backlog.oldestUnsentSeconds), "\(backlog.oldestUnsentSeconds)")
            #expect((300..<360).contains(backlog.oldestDueRungSeconds), "\(backlog.oldestDueRungSeconds)")
            try await fixture.app().test(.router) { client in
                let text = try await client.send(.get("/metrics", token: nil)).text
                #expect(text.contains("# TYPE tipwire_outbox_unsent_events gauge\ntipwire_outbox_unsent_events 2.0\n"))
                #expect(text.contains("# TYPE tipwire_deadline_rungs_due gauge\ntipwire_deadline_rungs_due 2.0\n"))
                #expect(text.contains("tipwire_outbox_oldest_unsent_age_seconds 6"))
                #expect(text.contains("tipwire_deadline_engine_lag_seconds 3"))
            }
        }
    }
}
