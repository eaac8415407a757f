import Foundation
import Postgres
import TipwireCore

/// The figures summed ahead (migration 0023, docs/analytics.md#rollups): folded from the timelines by
/// the deadline engine behind a watermark, read by `StatsStore` in a few hundred rows whatever the period.
public struct StatsRollups: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// What one fold did.
    public struct Fold: Sendable, Hashable {
        /// The days whose sums were computed again.
        public var days: Int
        /// Whether stale days remain (a long range is folded a slice at a time).
        public var more: Bool
    }

    /// Computes again the sums of up to `maximumDays` stale days and the blocks above them, in one
    /// transaction, and moves the watermark when no stale day was left. Runs as the pipeline.
    @discardableResult
    public func fold(maximumDays: Int = 64, now: Date = Date()) async throws -> Fold {
        try await client.withConnection { connection in
            try await connection.withTransaction { connection in
                // One fold at a time (the engine, or `tipwire stats rebuild`); every statement after the lock
                // sees what was committed before it, so a mark read here has its change in the sums.
                try await connection.query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || ' tipwire stats rollup fold'))")
                let started = try await connection.query("SELECT statement_timestamp()")[0].decode(column: 0, as: Date.self)
                let today = WorkingCalendar.dayOf(now).number
                var days = Set<Int>()
                var consumed: [Int] = []
                // Single stale days, each with all its marks: a bulk load leaves thousands on one day, folded once.
                let singles = try await connection.query(
                    """
                    SELECT first_day, array_agg(id) FROM stats_rollup_dirty WHERE first_day = last_day
                    GROUP BY first_day ORDER BY min(id) LIMIT \(maximumDays + 1)
                    """
                ).decode((Int, [Int]).self)
                var more = singles.count > maximumDays
                for (day, ids) in singles.prefix(maximumDays) {
                    days.insert(day)
                    consumed += ids
                }
                let ranges = try await connection.query(
                    "SELECT id, first_day, last_day FROM stats_rollup_dirty WHERE first_day < last_day ORDER BY id"
                ).decode((Int, Int, Int).self)
                // A range (a calendar change, a rebuild) covers only the days that can hold tasks, a slice at a time.
                let bounds =
                    ranges.isEmpty
                    ? (nil, nil, nil)
                    : try await connection.query(
                        """
                        SELECT (SELECT stats_rollup_day(min(assigned_at)) FROM task_timelines),
                               (SELECT min(first_day) FROM stats_rollup_groups WHERE level = 0),
                               (SELECT max(first_day) FROM stats_rollup_groups WHERE level = 0)
                        """)[0].decode((Int?, Int?, Int?).self)
                for (id, first, last) in ranges {
                    let from = max(first, min(bounds.0 ?? today, bounds.1 ?? today))
                    let through = min(last, max(today, bounds.2 ?? today))
                    let room = maximumDays - days.count
                    guard room > 0 else {
                        more = true
                        break
                    }
                    if from > through {
                        consumed.append(id)
                        continue
                    }
                    let end = min(through, from + room - 1)
                    days.formUnion(from...end)
                    if end == through {
                        consumed.append(id)
                    } else {
                        try await connection.execute("UPDATE stats_rollup_dirty SET first_day = \(end + 1) WHERE id = \(id)")
                        more = true
                        break
                    }
                }
                let folded = days.sorted()
                if !folded.isEmpty {
                    _ = try await connection.pipeline(Self.foldStatements(days: folded, today: WorkingCalendar.dayOf(now)))
                }
                if !consumed.isEmpty { try await connection.execute("DELETE FROM stats_rollup_dirty WHERE id = ANY(\(consumed))") }
                if !more { try await connection.execute("UPDATE stats_rollup_state SET folded_at = \(started)") }
                return Fold(days: folded.count, more: more)
            }
        }
    }

    /// Folds until no stale day is left; `progress` hears the days folded so far.
    public func foldAll(now: Date = Date(), progress: (Int) -> Void = { _ in }) async throws {
        var total = 0
        while true {
            let fold = try await fold(maximumDays: 128, now: now)
            total += fold.days
            progress(total)
            if !fold.more { return }
        }
    }

    /// Drops every sum and folds them all again from the timelines.
    public func rebuild(now: Date = Date(), progress: (Int) -> Void = { _ in }) async throws {
        _ = try await client.pipeline([
            "DELETE FROM stats_rollup_stages", "DELETE FROM stats_rollup_groups", "DELETE FROM stats_rollup_dirty",
            "INSERT INTO stats_rollup_dirty (first_day, last_day) VALUES (0, 100000)",
        ])
        try await foldAll(now: now, progress: progress)
    }

    /// Every change committed before this instant is in the sums (nil: never folded).
    public func watermark() async throws -> Date? {
        try await client.query("SELECT folded_at FROM stats_rollup_state").firstRow?.decode(column: 0, as: Date?.self) ?? nil
    }

    /// Whether any day is stale.
    public func pending() async throws -> Bool {
        try await client.query("SELECT EXISTS (SELECT 1 FROM stats_rollup_dirty)")[0].decode(column: 0, as: Bool.self)
    }

    // MARK: - Folding

    /// The four dimensions every task counts in, each with the flags of its findings (`f` is a flagged task).
    static let dimensions = """
        CROSS JOIN LATERAL (VALUES ('all', 'all', f.first_all, f.settled_all), ('agency', f.agency_code::text, f.first_agency, f.settled_agency),
            ('category', f.category_code, f.first_all, f.settled_all), ('jurisdiction', f.jurisdiction_code::text, f.first_all, f.settled_all))
            AS k(dimension, group_key, first, settled)
        """

    /// `name AS (…)`: per `keys`, a histogram as two arrays, the buckets ascending and their counts, summed
    /// from `counted`, a query of the keys, a bucket `b` and a count `c` (a bucket may come in many rows).
    static func histogram(_ name: String, keys: String, counted: String) -> String {
        """
        \(name) AS (
            SELECT \(keys), array_agg(b ORDER BY b) AS b, array_agg(c ORDER BY b) AS c
            FROM (SELECT \(keys), b, sum(c)::int AS c FROM (\(counted)) AS counted GROUP BY \(keys), b) AS summed
            GROUP BY \(keys)
        )
        """
    }

    /// What a day row's and a block row's histograms are summed by.
    static let dayKeys = "assigned_day, dimension, group_key, stage"
    static let blockKeys = "parent, dimension, group_key, stage"

    /// The statements that compute again the day rows of `days` and every block above them.
    static func foldStatements(days: [Int], today: CalendarDay) -> [PostgresQuery] {
        guard let first = days.first else { return [] }
        let scoped: PostgresQuery = """
            scoped AS (
                SELECT tl.*, p.n AS assigned_day
                FROM unnest(\(days)::int[]) AS p(n)
                JOIN task_timelines tl ON tl.assigned_at >= ((date '1970-01-01' + p.n)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')
                                      AND tl.assigned_at < ((date '1970-01-01' + p.n + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')
                JOIN agencies a ON a.code = tl.agency_code
                WHERE tl.assigned_at >= a.joined_at
            )
            """
        let calendar = StatsStore.days(from: CalendarDay(number: first), through: today)
        var statements: [PostgresQuery] = [
            "DELETE FROM stats_rollup_stages WHERE level = 0 AND first_day = ANY(\(days))",
            "DELETE FROM stats_rollup_groups WHERE level = 0 AND first_day = ANY(\(days))",
            """
            WITH \(fragment: scoped), \(fragment: calendar),
            spans AS (SELECT s.assigned_day, s.agency_code, s.category_code, s.jurisdiction_code, v.stage, v.started, v.finished, v.due
                      FROM scoped s \(unescaped: StatsStore.stageSpans)),
            measured AS (SELECT assigned_day, agency_code, category_code, jurisdiction_code, stage, due IS NOT NULL AS judged, finished <= due AS on_time,
                                \(unescaped: StatsStore.measures)
                         FROM spans \(unescaped: StatsStore.daysJoin)),
            keyed AS (
                SELECT m.assigned_day, k.dimension, k.group_key, m.stage, m.judged, m.on_time,
                       CASE WHEN m.hours < \(HourBuckets.smallest) THEN \(HourBuckets.zero)
                            ELSE ceil(ln(m.hours) / ln(\(HourBuckets.gamma)))::int END AS hour_bucket,
                       m.working_days::int AS day_bucket
                FROM measured m CROSS JOIN LATERAL (VALUES ('all', 'all'), ('agency', m.agency_code::text), ('category', m.category_code),
                    ('jurisdiction', m.jurisdiction_code::text)) AS k(dimension, group_key)
            ),
            totals AS (
                SELECT assigned_day, dimension, group_key, stage, count(*)::int AS spans, count(*) FILTER (WHERE judged)::int AS judged,
                       count(*) FILTER (WHERE on_time)::int AS on_time
                FROM keyed GROUP BY 1, 2, 3, 4
            ),
            \(unescaped: histogram("hours", keys: dayKeys, counted: "SELECT \(dayKeys), hour_bucket AS b, 1 AS c FROM keyed")),
            \(unescaped: histogram("working", keys: dayKeys, counted: "SELECT \(dayKeys), day_bucket AS b, 1 AS c FROM keyed WHERE day_bucket IS NOT NULL"))
            INSERT INTO stats_rollup_stages
                (dimension, level, first_day, group_key, stage, spans, judged, on_time, hour_buckets, hour_counts, day_buckets, day_counts)
            SELECT t.dimension, 0, t.assigned_day, t.group_key, t.stage, t.spans, t.judged, t.on_time, h.b, h.c, coalesce(w.b, '{}'), coalesce(w.c, '{}')
            FROM totals t JOIN hours h USING (assigned_day, dimension, group_key, stage) LEFT JOIN working w USING (assigned_day, dimension, group_key, stage)
            """,
            """
            WITH \(fragment: scoped),
            matching AS (
                SELECT tl.task_id, tl.finding_id, tl.agency_code, tl.assigned_at, tl.ended_at
                FROM (SELECT DISTINCT finding_id FROM scoped) sf JOIN tasks t ON t.finding_id = sf.finding_id
                JOIN task_timelines tl ON tl.task_id = t.id JOIN agencies a ON a.code = tl.agency_code
                WHERE tl.assigned_at >= a.joined_at
            ),
            first_any AS (SELECT DISTINCT ON (finding_id) finding_id, task_id FROM matching ORDER BY finding_id, assigned_at, task_id),
            first_agency AS (SELECT DISTINCT ON (finding_id, agency_code) task_id FROM matching ORDER BY finding_id, agency_code, assigned_at, task_id),
            open_any AS (SELECT DISTINCT finding_id FROM matching WHERE ended_at IS NULL),
            open_agency AS (SELECT DISTINCT finding_id, agency_code FROM matching WHERE ended_at IS NULL),
            raised AS (
                SELECT d.task_id, count(*)::int AS n
                FROM scoped s JOIN deadlines d ON d.task_id = s.task_id JOIN deadline_rungs r ON r.deadline_id = d.id
                WHERE r.kind IN ('overdue', 'escalation') AND d.holder_kind = 'agency' AND d.holder_code = s.agency_code
                GROUP BY d.task_id
            ),
            flagged AS (
                SELECT s.*, coalesce(r.n, 0) AS escalations,
                       fa.task_id IS NOT NULL AS first_all, fg.task_id IS NOT NULL AS first_agency,
                       oa.finding_id IS NULL AS settled_all, og.finding_id IS NULL AS settled_agency
                FROM scoped s
                LEFT JOIN raised r ON r.task_id = s.task_id
                LEFT JOIN first_any fa ON fa.task_id = s.task_id
                LEFT JOIN first_agency fg ON fg.task_id = s.task_id
                LEFT JOIN open_any oa ON oa.finding_id = s.finding_id
                LEFT JOIN open_agency og ON og.finding_id = s.finding_id AND og.agency_code = s.agency_code
            )
            INSERT INTO stats_rollup_groups
                (dimension, level, first_day, group_key, tasks, extensions, transfers, declines, ended, escalations, findings, findings_settled)
            SELECT k.dimension, 0, f.assigned_day, k.group_key, count(*)::int, sum(f.extensions)::int, count(f.transferred_at)::int,
                   count(f.declined_at)::int, count(f.ended_at)::int, sum(f.escalations)::int,
                   count(*) FILTER (WHERE k.first)::int, count(*) FILTER (WHERE k.first AND k.settled)::int
            FROM flagged f \(unescaped: dimensions)
            GROUP BY k.dimension, f.assigned_day, k.group_key
            """,
        ]
        for level in DayBlock.levels.dropFirst() {
            let parents = Array(Set(days.map { DayBlock(level: level, containing: $0).first })).sorted()
            let half = 1 << (level - 1)
            func over(_ table: String) -> PostgresQuery {
                """
                parents AS (SELECT unnest(\(parents)::int[]) AS first_day),
                children AS (
                    SELECT p.first_day AS parent, c.*
                    FROM parents p JOIN \(unescaped: table) c ON c.level = \(level - 1) AND c.first_day IN (p.first_day, p.first_day + \(half))
                )
                """
            }
            statements += [
                "DELETE FROM stats_rollup_stages WHERE level = \(level) AND first_day = ANY(\(parents))",
                "DELETE FROM stats_rollup_groups WHERE level = \(level) AND first_day = ANY(\(parents))",
                """
                WITH \(fragment: over("stats_rollup_stages")),
                totals AS (
                    SELECT parent, dimension, group_key, stage, sum(spans)::int AS spans, sum(judged)::int AS judged, sum(on_time)::int AS on_time
                    FROM children GROUP BY 1, 2, 3, 4
                ),
                \(unescaped: histogram("hours", keys: blockKeys, counted: "SELECT \(blockKeys), u.b, u.c FROM children, unnest(hour_buckets, hour_counts) AS u(b, c)")),
                \(unescaped: histogram("working", keys: blockKeys, counted: "SELECT \(blockKeys), u.b, u.c FROM children, unnest(day_buckets, day_counts) AS u(b, c)"))
                INSERT INTO stats_rollup_stages
                    (dimension, level, first_day, group_key, stage, spans, judged, on_time, hour_buckets, hour_counts, day_buckets, day_counts)
                SELECT t.dimension, \(level), t.parent, t.group_key, t.stage, t.spans, t.judged, t.on_time,
                       coalesce(h.b, '{}'), coalesce(h.c, '{}'), coalesce(w.b, '{}'), coalesce(w.c, '{}')
                FROM totals t LEFT JOIN hours h USING (parent, dimension, group_key, stage) LEFT JOIN working w USING (parent, dimension, group_key, stage)
                """,
                """
                WITH \(fragment: over("stats_rollup_groups"))
                INSERT INTO stats_rollup_groups
                    (dimension, level, first_day, group_key, tasks, extensions, transfers, declines, ended, escalations, findings, findings_settled)
                SELECT dimension, \(level), parent, group_key, sum(tasks)::int, sum(extensions)::int, sum(transfers)::int, sum(declines)::int,
                       sum(ended)::int, sum(escalations)::int, sum(findings)::int, sum(findings_settled)::int
                FROM children GROUP BY dimension, parent, group_key
                """,
            ]
        }
        return statements
    }
}

extension StatsRollups {
    // MARK: - Reading

    /// `parts AS (…)`: the plan's blocks, each with its group label ('' for the row's own key) and backlog
    /// age ('' for the period's figures).
    static func parts(_ plan: RollupPlan) -> PostgresQuery {
        """
        parts AS (
            SELECT * FROM unnest(\(plan.parts.map(\.block.level))::int[], \(plan.parts.map(\.block.first))::int[],
                                 \(plan.parts.map { $0.label ?? "" })::text[], \(plan.parts.map { $0.age?.rawValue ?? "" })::text[])
                AS q(level, first_day, label, age)
        )
        """
    }

    /// `parts` and `picked AS (…)`: the stage rows of the period's blocks, each with the key it counts toward.
    static func picked(_ plan: RollupPlan) -> PostgresQuery {
        """
        \(fragment: parts(plan)),
        picked AS (
            SELECT CASE WHEN q.label = '' THEN r.group_key ELSE q.label END AS key, r.*
            FROM parts q JOIN stats_rollup_stages r ON r.level = q.level AND r.first_day = q.first_day
            WHERE q.age = '' AND r.dimension = \(plan.dimension.rawValue) AND (\(plan.key)::text IS NULL OR r.group_key = \(plan.key))
        )
        """
    }

    /// How many of the plan's spans of `stage` took each number of working days, in order.
    static func distributionStatement(_ plan: RollupPlan, stage: LatencyStage) -> PostgresQuery {
        """
        WITH \(fragment: picked(plan))
        SELECT u.b, sum(u.c)::int FROM picked, unnest(day_buckets, day_counts) AS u(b, c) WHERE stage = \(stage.rawValue)
        GROUP BY 1 ORDER BY 1
        """
    }

    /// The statements that read a report's task figures from the rollups, in order: stage totals, the
    /// histograms' buckets, group counts with the backlog, findings, and the watermark.
    static func readStatements(_ plan: RollupPlan) -> [PostgresQuery] {
        let parts = parts(plan)
        let picked = picked(plan)
        return [
            "WITH \(fragment: picked) SELECT key, stage, sum(spans)::int, sum(judged)::int, sum(on_time)::int FROM picked GROUP BY 1, 2",
            """
            WITH \(fragment: picked)
            SELECT key, stage, 'h', u.b, sum(u.c)::int FROM picked, unnest(hour_buckets, hour_counts) AS u(b, c) GROUP BY 1, 2, 4
            UNION ALL
            SELECT key, stage, 'd', u.b, sum(u.c)::int FROM picked, unnest(day_buckets, day_counts) AS u(b, c) GROUP BY 1, 2, 4
            """,
            """
            WITH \(fragment: parts)
            SELECT CASE WHEN q.label = '' THEN r.group_key ELSE q.label END, q.age, sum(r.tasks)::int, sum(r.extensions)::int,
                   sum(r.transfers)::int, sum(r.declines)::int, sum(r.ended)::int, sum(r.escalations)::int
            FROM parts q JOIN stats_rollup_groups r ON r.level = q.level AND r.first_day = q.first_day
            WHERE r.dimension = \(plan.dimension.rawValue) AND (\(plan.key)::text IS NULL OR r.group_key = \(plan.key))
            GROUP BY 1, 2
            """,
            """
            WITH \(fragment: parts)
            SELECT coalesce(sum(r.findings), 0)::int, coalesce(sum(r.findings_settled), 0)::int
            FROM parts q JOIN stats_rollup_groups r ON r.level = q.level AND r.first_day = q.first_day
            WHERE q.age = '' AND r.dimension = \(plan.findingsDimension.rawValue) AND r.group_key = \(plan.findingsKey)
            """,
            "SELECT folded_at FROM stats_rollup_state",
        ]
    }

    /// `readStatements`' results as figures.
    static func figures(_ results: [PostgresRows], filter: StatsFilter) throws -> StatsStore.TaskFigures {
        var totals: [String: [LatencyStage: (spans: Int, judged: Int, onTime: Int)]] = [:]
        for row in results[0] {
            let (key, stage, spans, judged, onTime) = try row.decode((String, String, Int, Int, Int).self)
            guard let stage = LatencyStage(rawValue: stage) else { continue }
            totals[key, default: [:]][stage] = (spans, judged, onTime)
        }
        var hours: [String: [LatencyStage: BucketCounts]] = [:]
        var workingDays: [String: [LatencyStage: BucketCounts]] = [:]
        for row in results[1] {
            let (key, stage, kind, bucket, count) = try row.decode((String, String, String, Int, Int).self)
            guard let stage = LatencyStage(rawValue: stage) else { continue }
            if kind == "h" {
                hours[key, default: [:]][stage, default: BucketCounts()].add(count, to: bucket)
            } else {
                workingDays[key, default: [:]][stage, default: BucketCounts()].add(count, to: bucket)
            }
        }
        var counts: [String: (tasks: Int, extensions: Int, transfers: Int, declines: Int, ended: Int, escalations: Int)] = [:]
        var backlog: [String: [BacklogAge: Int]] = [:]
        for row in results[2] {
            let (key, age, tasks, extensions, transfers, declines, ended, escalations) = try row.decode(
                (String, String, Int, Int, Int, Int, Int, Int).self)
            if let age = BacklogAge(rawValue: age) {
                backlog[key, default: [:]][age, default: 0] += tasks - ended
            } else {
                counts[key] = (tasks, extensions, transfers, declines, ended, escalations)
            }
        }
        let groups = counts.sorted { $0.key < $1.key }.map { key, count -> GroupFigures in
            let stages = LatencyStage.taskStages.map { stage -> StageFigures in
                let total = totals[key]?[stage] ?? (0, 0, 0)
                return StageFigures(
                    stage: stage, count: total.spans, hours: hours[key]?[stage]?.quantiles(HourBuckets.value),
                    workingDays: workingDays[key]?[stage]?.quantiles { Double($0) }, judged: total.judged, onTime: total.onTime,
                    minimumSample: filter.minimumSample)
            }
            return GroupFigures(
                key: key, name: key, tasks: count.tasks, stages: stages,
                backlog: Dictionary(uniqueKeysWithValues: BacklogAge.allCases.map { ($0, backlog[key]?[$0] ?? 0) }), extensions: count.extensions,
                transfers: count.transfers,
                declines: count.declines, escalations: count.escalations, accountedFor: count.ended, minimumSample: filter.minimumSample)
        }
        let (received, settled) = try results[3][0].decode((Int, Int).self)
        let watermark = try results[4].firstRow?.decode(column: 0, as: Date?.self) ?? nil
        return StatsStore.TaskFigures(
            groups: groups, findings: FindingsAccounted(received: received, accountedFor: settled), figuresAsOf: watermark)
    }
}
