import Foundation
import Postgres
import TipwireCore

/// Whose figures a caller may see (docs/analytics.md): the coordinator and auditors every agency's, an
/// agency its own, a liaison its newsroom's answer times only.
public enum StatsScope: Sendable, Hashable {
    case everything
    case agency(PartyCode)
    case newsroom(PartyCode)
}

/// Why a report could not be made.
public enum StatsRefusal: Error, Sendable, Hashable {
    /// A filter names something that does not exist.
    case unknown(field: String, code: String)
}

/// Response-latency analytics over `task_timelines` (migration 0017), which the task events keep in
/// step. Reports read the rollups summed ahead from them (`StatsRollups`, migration 0023); the exact
/// path computes every figure at query time, in SQL, from the instants the events mark.
public struct StatsStore: Sendable {
    let client: PostgresClient
    /// Whether a report folds the stale days into the rollups first (`TipwireStores(statsFoldFirst:)`).
    let foldsFirst: Bool

    public init(client: PostgresClient, foldsFirst: Bool = false) {
        self.client = client
        self.foldsFirst = foldsFirst
    }

    /// The report for `filter` as `scope` may see it, at `now`. Group names are in `language`.
    /// Throws `StatsRefusal` when a filter names something unknown, or one outside `scope`.
    public func latency(
        _ filter: StatsFilter, scope: StatsScope, language: Language = .vietnamese, source: StatsSource = .rollups, now: Date = Date()
    ) async throws -> LatencyReport {
        if foldsFirst && source == .rollups {
            try await DatabaseScope.system { try await StatsRollups(client: client).foldAll(now: now) }
        }
        return try await client.withConnection { connection in
            try await Self.report(filter, scope: scope, language: language, source: source, now: now, on: connection)
        }
    }

    static func report(
        _ filter: StatsFilter, scope: StatsScope, language: Language, source: StatsSource = .rollups, now: Date, on connection: PostgresConnection
    ) async throws -> LatencyReport {
        try await checkFilter(filter, on: connection)
        let asked = filter
        var filter = filter
        var newsroom: PartyCode?
        let seesTasks: Bool
        switch scope {
        case .everything: seesTasks = true
        case .agency(let agency):
            if let asked = filter.agency, asked != agency { throw StatsRefusal.unknown(field: "agency", code: asked.rawValue) }
            filter.agency = agency
            seesTasks = true
        case .newsroom(let code):
            newsroom = code
            seesTasks = false
        }
        let plan = seesTasks && source == .rollups ? RollupPlan(filter, today: WorkingCalendar.dayOf(now)) : nil
        let taskStatements = plan.map { StatsRollups.readStatements($0) } ?? reportStatements(filter, seesTasks: seesTasks, now: now)
        let shared = [
            newsroomAnswers(filter: filter, newsroom: newsroom, now: now), groupNames(filter.grouping, language: language),
        ]
        let results = try await connection.pipeline(taskStatements + shared)
        let tasks = try plan.map { _ in try StatsRollups.figures(results, filter: filter) } ?? exactFigures(results, filter: filter)
        if plan != nil && tasks.figuresAsOf == nil {
            // Never folded yet (a database just migrated, its history being folded): the sums are not whole.
            return try await report(asked, scope: scope, language: language, source: .exact, now: now, on: connection)
        }
        var names: [String: String] = [:]
        for row in results[taskStatements.count + 1] {
            let (code, name) = try row.decode((String, String).self)
            names[code] = name
        }
        let answers = try results[taskStatements.count].map { row -> NewsroomAnswerFigures in
            let (code, name, asked, count, h50, h90, h99, d50, d90, d99, judged, onTime) = try row.decode(
                (String, String, Int, Int, Double?, Double?, Double?, Double?, Double?, Double?, Int, Int).self)
            return NewsroomAnswerFigures(
                newsroom: try TipwireStore.code(code), name: name, asked: asked,
                answer: StageFigures(
                    stage: .newsroomAnswer, count: count, hours: Self.quantiles(h50, h90, h99), workingDays: Self.quantiles(d50, d90, d99),
                    judged: judged, onTime: onTime, minimumSample: filter.minimumSample))
        }
        var groups = tasks.groups
        for index in groups.indices { groups[index].name = names[groups[index].key] ?? groups[index].key }
        return LatencyReport(
            period: filter.period, groupBy: filter.grouping, minimumSample: filter.minimumSample, asOf: now, groups: groups,
            findings: seesTasks ? tasks.findings : nil, newsroomAnswers: answers,
            figuresAsOf: tasks.figuresAsOf,
            hoursRelativeAccuracy: plan == nil ? 0 : HourBuckets.relativeAccuracy)
    }

    /// The figures of the tasks, whichever path computed them.
    struct TaskFigures {
        var groups: [GroupFigures]
        var findings: FindingsAccounted
        var figuresAsOf: Date?
    }

    /// The exact path's results (`reportStatements`) as figures.
    static func exactFigures(_ results: [PostgresRows], filter: StatsFilter) throws -> TaskFigures {
        var stages: [String: [StageFigures]] = [:]
        for row in results[0] {
            let (key, stage, count, h50, h90, h99, d50, d90, d99, judged, onTime) = try row.decode(
                (String, String, Int, Double?, Double?, Double?, Double?, Double?, Double?, Int, Int).self)
            guard let stage = LatencyStage(rawValue: stage) else { continue }
            stages[key, default: []].append(
                StageFigures(
                    stage: stage, count: count, hours: Self.quantiles(h50, h90, h99), workingDays: Self.quantiles(d50, d90, d99), judged: judged,
                    onTime: onTime, minimumSample: filter.minimumSample))
        }
        var raised: [String: Int] = [:]
        for row in results[2] {
            let (key, count) = try row.decode((String, Int).self)
            raised[key] = count
        }
        let groups = try results[1].map { row -> GroupFigures in
            let (key, tasks, young, month, quarter, old, extensions, transfers, declines, accounted, _) = try row.decode(
                (String, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int).self)
            return GroupFigures(
                key: key, name: key, tasks: tasks, stages: completeStages(stages[key] ?? [], minimumSample: filter.minimumSample),
                backlog: [.upTo7Days: young, .upTo30Days: month, .upTo90Days: quarter, .over90Days: old], extensions: extensions,
                transfers: transfers, declines: declines, escalations: raised[key, default: 0], accountedFor: accounted,
                minimumSample: filter.minimumSample)
        }
        let (received, accounted) = try results[3][0].decode((Int, Int).self)
        return TaskFigures(groups: groups, findings: FindingsAccounted(received: received, accountedFor: accounted), figuresAsOf: nil)
    }

    /// Every task stage in order, with zeros for a stage no task completed.
    static func completeStages(_ stages: [StageFigures], minimumSample: Int) -> [StageFigures] {
        LatencyStage.taskStages.map { stage in
            stages.first { $0.stage == stage }
                ?? StageFigures(stage: stage, count: 0, hours: nil, workingDays: nil, judged: 0, onTime: 0, minimumSample: minimumSample)
        }
    }

    /// The exact path's statements for the tasks, in order: stage figures, group counts, escalations and
    /// findings accounted for. `tipwire-bench dashboard` runs them, with the newsroom answers, as its baseline.
    public static func reportStatements(_ filter: StatsFilter, seesTasks: Bool = true, now: Date = Date()) -> [PostgresQuery] {
        let scoped = Self.scoped(filter)
        let days = Self.days(from: filter.period.from, through: max(filter.period.to, WorkingCalendar.dayOf(now)))
        return [
            seesTasks
                ? stageFigures(scoped: scoped, days: days)
                : "SELECT NULL::text, NULL::text, 0, NULL::float8, NULL::float8, NULL::float8, NULL::float8, NULL::float8, NULL::float8, 0, 0 WHERE false",
            seesTasks ? groupCounts(scoped: scoped, now: now) : "SELECT NULL::text, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 WHERE false",
            seesTasks ? escalations(scoped: scoped) : "SELECT NULL::text, 0 WHERE false",
            seesTasks ? findingsAccounted(filter) : "SELECT 0, 0",
        ]
    }

    /// Filters must name things that exist.
    static func checkFilter(_ filter: StatsFilter, on connection: PostgresConnection) async throws {
        let checks: [(field: String, code: String?, table: String)] = [
            ("agency", filter.agency?.rawValue, "agencies"), ("category", filter.category, "categories"),
            ("jurisdiction", filter.jurisdiction?.rawValue, "jurisdictions"),
        ]
        for check in checks {
            guard let code = check.code else { continue }
            let found = try await connection.query("SELECT EXISTS (SELECT 1 FROM \(identifier: check.table) WHERE code = \(code))")[0]
                .decode(column: 0, as: Bool.self)
            if !found { throw StatsRefusal.unknown(field: check.field, code: code) }
        }
    }

    static func quantiles(_ p50: Double?, _ p90: Double?, _ p99: Double?) -> Quantiles? {
        guard let p50, let p90, let p99 else { return nil }
        return Quantiles(p50: p50, p90: p90, p99: p99)
    }

    // MARK: - The SQL

    /// The tasks the report covers, with the key of their group: assigned in the period, after their
    /// agency joined tipwire, narrowed by the filter. `name` is the CTE's; `inPeriod: false` drops the
    /// period (a finding's tasks of the group, whenever assigned).
    static func scoped(_ filter: StatsFilter, name: String = "scoped", inPeriod: Bool = true) -> PostgresQuery {
        let key: String =
            switch filter.grouping {
            case .agency: "tl.agency_code::text"
            case .category: "tl.category_code"
            case .jurisdiction: "tl.jurisdiction_code::text"
            case .month: "to_char(tl.assigned_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM')"
            case .all: "'all'::text"
            }
        let (start, end) = filter.period.interval
        let period: PostgresQuery = inPeriod ? "tl.assigned_at >= \(start) AND tl.assigned_at < \(end)" : "true"
        return """
            \(unescaped: name) AS (
                SELECT tl.*, \(unescaped: key) AS group_key
                FROM task_timelines tl JOIN agencies a ON a.code = tl.agency_code
                WHERE \(fragment: period) AND tl.assigned_at >= a.joined_at
                  AND (\(filter.agency?.rawValue)::text IS NULL OR tl.agency_code = \(filter.agency?.rawValue))
                  AND (\(filter.category)::text IS NULL OR tl.category_code = \(filter.category))
                  AND (\(filter.jurisdiction?.rawValue)::text IS NULL OR tl.jurisdiction_code = \(filter.jurisdiction?.rawValue))
            )
            """
    }

    /// Every day from the day before `from` through a year after `through`, each with the number of
    /// working days up to it: the working days between two instants are the difference of their days'
    /// numbers (`WorkingCalendar.workingDays`). Holidays and swapped working days are read as they stand,
    /// so a calendar loaded later applies to the past as well.
    static func days(from: CalendarDay, through: CalendarDay) -> PostgresQuery {
        """
        days AS (
            SELECT g::date AS day,
                   (sum(CASE WHEN o.day IS NOT NULL THEN 1 WHEN h.day IS NOT NULL OR extract(isodow FROM g) >= 6 THEN 0 ELSE 1 END)
                        OVER (ORDER BY g))::int AS n
            FROM generate_series(\(from.description)::date - 1, \(through.description)::date + 366, interval '1 day') g
            LEFT JOIN holidays h ON h.day = g::date LEFT JOIN working_overrides o ON o.day = g::date
        )
        """
    }

    /// Hours and working days from `started` to `finished` (NULL when it has not finished: `greatest`
    /// skips NULLs, so it is guarded), against `days`.
    static let measures = """
        CASE WHEN finished IS NOT NULL THEN greatest(0, extract(epoch FROM finished - started) / 3600)::float8 END AS hours,
        CASE WHEN finished IS NOT NULL THEN greatest(0, e.n - b.n)::float8 END AS working_days
        """
    static let daysJoin = """
        LEFT JOIN days b ON b.day = (started AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
        LEFT JOIN days e ON e.day = ((finished - interval '1 microsecond') AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
        """
    static let quantileColumns = """
        percentile_disc(0.5) WITHIN GROUP (ORDER BY hours), percentile_disc(0.9) WITHIN GROUP (ORDER BY hours),
        percentile_disc(0.99) WITHIN GROUP (ORDER BY hours),
        percentile_disc(0.5) WITHIN GROUP (ORDER BY working_days), percentile_disc(0.9) WITHIN GROUP (ORDER BY working_days),
        percentile_disc(0.99) WITHIN GROUP (ORDER BY working_days)
        """

    /// Each task's spans that finished, one per stage (`s` is the task's timeline).
    static let stageSpans = """
        CROSS JOIN LATERAL (VALUES
            ('deliver', s.assigned_at, s.delivered_at, s.deliver_by),
            ('acknowledge', s.delivered_at, s.acknowledged_at, s.acknowledge_due_at),
            ('first_response', s.delivered_at, s.first_response_at, s.acknowledge_due_at),
            ('resolve', s.delivered_at, s.resolved_at, s.resolve_due_at)) AS v(stage, started, finished, due)
        WHERE v.started IS NOT NULL AND v.finished IS NOT NULL
        """

    /// Per group and stage: how many completed it, the quantiles, and how many were judged and on time.
    /// First response is judged against the acknowledge clock; resolve runs from delivery (what the
    /// press waits), judged against the resolve clock, which runs from acknowledgement.
    static func stageFigures(scoped: PostgresQuery, days: PostgresQuery) -> PostgresQuery {
        """
        WITH \(fragment: scoped), \(fragment: days),
        spans AS (
            SELECT s.group_key, v.stage, v.started, v.finished, v.due FROM scoped s \(unescaped: stageSpans)
        ), measured AS (
            SELECT group_key, stage, due, finished <= due AS on_time, \(unescaped: measures)
            FROM spans \(unescaped: daysJoin)
        )
        SELECT group_key, stage, count(*)::int, \(unescaped: quantileColumns),
               count(due)::int, count(*) FILTER (WHERE on_time)::int
        FROM measured GROUP BY group_key, stage
        """
    }

    /// Per group: tasks, the open ones by age (calendar days since assignment, Hanoi time), extensions,
    /// transfers, declines, and the tasks accounted for.
    static func groupCounts(scoped: PostgresQuery, now: Date) -> PostgresQuery {
        """
        WITH \(fragment: scoped),
        aged AS (
            SELECT s.*, (\(now)::timestamptz AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - (s.assigned_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS age
            FROM scoped s
        )
        SELECT group_key, count(*)::int,
               count(*) FILTER (WHERE ended_at IS NULL AND age <= 7)::int,
               count(*) FILTER (WHERE ended_at IS NULL AND age BETWEEN 8 AND 30)::int,
               count(*) FILTER (WHERE ended_at IS NULL AND age BETWEEN 31 AND 90)::int,
               count(*) FILTER (WHERE ended_at IS NULL AND age > 90)::int,
               coalesce(sum(extensions), 0)::int,
               count(transferred_at)::int, count(declined_at)::int,
               count(*) FILTER (WHERE ended_at IS NOT NULL)::int, 0
        FROM aged GROUP BY group_key ORDER BY group_key
        """
    }

    /// Per group: overdue notices and escalations raised on the duties its tasks' agencies hold. The
    /// newsroom's answer clocks run on the same tasks, but their lateness is the newsroom's, never the
    /// agency's: an evaluation counts only the agency's own duties.
    static func escalations(scoped: PostgresQuery) -> PostgresQuery {
        """
        WITH \(fragment: scoped)
        SELECT s.group_key, count(*)::int
        FROM deadline_rungs r JOIN deadlines d ON d.id = r.deadline_id JOIN scoped s ON s.task_id = d.task_id
        WHERE r.kind IN ('overdue', 'escalation') AND d.holder_kind = 'agency' AND d.holder_code = s.agency_code
        GROUP BY s.group_key
        """
    }

    /// Findings received in the period, and those of them settled: a finding counts in the period its first
    /// task of the filter's group (agency, category, jurisdiction, or any) was assigned in, once however
    /// many of its tasks are, and it is settled when none of those tasks, whenever assigned, is open.
    static func findingsAccounted(_ filter: StatsFilter) -> PostgresQuery {
        """
        WITH \(fragment: scoped(filter)), \(fragment: scoped(filter, name: "matching", inPeriod: false)),
        firsts AS (SELECT DISTINCT ON (finding_id) finding_id, task_id FROM matching ORDER BY finding_id, assigned_at, task_id),
        unsettled AS (SELECT DISTINCT finding_id FROM matching WHERE ended_at IS NULL)
        SELECT count(*)::int, count(*) FILTER (WHERE u.finding_id IS NULL)::int
        FROM firsts f JOIN scoped s ON s.task_id = f.task_id LEFT JOIN unsettled u ON u.finding_id = f.finding_id
        """
    }

    /// Per newsroom: agencies' information requests asked in the period, how long the answered ones
    /// took, and how many were answered by their due time. An agency sees the requests it asked, a
    /// liaison its newsroom's.
    public static func newsroomAnswers(filter: StatsFilter, newsroom: PartyCode? = nil, now: Date = Date()) -> PostgresQuery {
        let (start, end) = filter.period.interval
        let agency = filter.agency
        let days = Self.days(from: filter.period.from, through: max(filter.period.to, WorkingCalendar.dayOf(now)))
        return """
            WITH \(fragment: days),
            asked AS (
                SELECT r.newsroom_code, r.created_at AS started, CASE WHEN r.state = 'answered' THEN r.answered_at END AS finished, r.due_at, r.state
                FROM info_requests r
                WHERE r.direction = 'to-newsroom' AND r.created_at >= \(start) AND r.created_at < \(end)
                  AND (\(agency?.rawValue)::text IS NULL OR r.agency_code = \(agency?.rawValue))
                  AND (\(newsroom?.rawValue)::text IS NULL OR r.newsroom_code = \(newsroom?.rawValue))
            ), measured AS (
                SELECT newsroom_code, state, finished, due_at, \(unescaped: measures)
                FROM asked \(unescaped: daysJoin)
            )
            SELECT m.newsroom_code::text, n.name, count(*)::int, count(*) FILTER (WHERE m.state = 'answered')::int,
                   \(unescaped: quantileColumns),
                   count(*) FILTER (WHERE m.state = 'answered')::int, count(*) FILTER (WHERE m.state = 'answered' AND m.finished <= m.due_at)::int
            FROM measured m JOIN newsrooms n ON n.code = m.newsroom_code
            GROUP BY m.newsroom_code, n.name ORDER BY m.newsroom_code
            """
    }

    static func groupNames(_ grouping: StatsGrouping, language: Language) -> PostgresQuery {
        switch grouping {
        case .agency: "SELECT code::text, name FROM agencies"
        case .category: language == .english ? "SELECT code, name_en FROM categories" : "SELECT code, name_vi FROM categories"
        case .jurisdiction: "SELECT code::text, name FROM jurisdictions"
        case .month, .all: "SELECT NULL::text, NULL::text WHERE false"
        }
    }
}

extension StatsStore {
    /// Recomputes every task's timeline from the task events (migration 0017's `task_timelines_rebuild`).
    public func rebuildTimelines() async throws -> Int {
        try await client.query("SELECT task_timelines_rebuild()")[0].decode(column: 0, as: Int.self)
    }
}

extension StatsStore {
    /// How many of the filter's tasks took each number of working days to be acknowledged (the agency
    /// page's distribution), in order of working days: the rollups' working-day histogram, exact.
    public func acknowledgeDistribution(_ filter: StatsFilter, source: StatsSource = .rollups, now: Date = Date()) async throws
        -> [(workingDays: Int, tasks: Int)]
    {
        var plan = source == .rollups ? RollupPlan(filter, today: WorkingCalendar.dayOf(now)) : nil
        if foldsFirst && plan != nil {
            try await DatabaseScope.system { try await StatsRollups(client: client).foldAll(now: now) }
        }
        // Never folded yet: the sums are not whole, as in `report`.
        if plan != nil, try await StatsRollups(client: client).watermark() == nil { plan = nil }
        let statement =
            plan.map { StatsRollups.distributionStatement($0, stage: .acknowledge) } ?? Self.acknowledgeDistributionStatement(filter, now: now)
        return try await client.query(statement).decode((Int, Int).self).map { (workingDays: $0.0, tasks: $0.1) }
    }

    /// `acknowledgeDistribution`'s exact SQL (run by `tipwire-bench dashboard`'s baseline too).
    public static func acknowledgeDistributionStatement(_ filter: StatsFilter, now: Date = Date()) -> PostgresQuery {
        let days = Self.days(from: filter.period.from, through: max(filter.period.to, WorkingCalendar.dayOf(now)))
        return
            """
            WITH \(fragment: Self.scoped(filter)), \(fragment: days),
            spans AS (SELECT delivered_at AS started, acknowledged_at AS finished FROM scoped WHERE delivered_at IS NOT NULL AND acknowledged_at IS NOT NULL),
            measured AS (SELECT \(unescaped: Self.measures) FROM spans \(unescaped: Self.daysJoin))
            SELECT working_days::int, count(*)::int FROM measured WHERE working_days IS NOT NULL GROUP BY 1 ORDER BY 1
            """
    }

    /// The annual scorecard of `year`: every agency that had joined by the year's end, in code order;
    /// an agency's scope sees its own row only.
    public func scorecard(year: Int, scope: StatsScope, minimumSample: Int = StatsFilter.defaultMinimumSample, now: Date = Date()) async throws
        -> Scorecard
    {
        let period = try StatsPeriod.year(year)
        let report = try await latency(StatsFilter(period: period, minimumSample: minimumSample), scope: scope, now: now)
        let end = period.interval.end
        let agencies = try await client.query(
            """
            SELECT code::text, name FROM agencies
            WHERE joined_at < \(end) AND (\(Self.agencyOf(scope))::text IS NULL OR code = \(Self.agencyOf(scope)))
            ORDER BY code
            """
        ).decode((String, String).self).map { (code: $0.0, name: $0.1) }
        let entries = try await CalendarStore(client: client).entries(year: year)
        let saturdays = entries.filter { $0.kind == .working && $0.day.isWeekend }.count
        return Scorecard(
            year: year, report: report, agencies: agencies, holidays: entries.filter { $0.kind == .holiday }.count, workingSaturdays: saturdays)
    }

    static func agencyOf(_ scope: StatsScope) -> String? {
        switch scope {
        case .agency(let agency): agency.rawValue
        case .newsroom: "-"  // no agency has this code: a newsroom has no row
        case .everything: nil
        }
    }
}

extension StatsStore {
    /// How reporting periods are cut (`CalendarStore.reportingCalendar`).
    public func reportingCalendar() async throws -> ReportingCalendar {
        try await CalendarStore(client: client).reportingCalendar()
    }

    /// The agency's name, or nil when no agency has the code.
    public func agencyName(_ agency: PartyCode) async throws -> String? {
        try await client.query("SELECT name FROM agencies WHERE code = \(agency.rawValue)").firstRow?.decode(column: 0, as: String.self)
    }
}
