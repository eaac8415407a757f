import Foundation
import Postgres

/// Bulk rows for benchmarks and load tests, written set-wise by the database itself: findings of the
/// demo newsroom `tuoitre`, one delivered task each for an agency, and each task's acknowledge clock.
/// Needs the demo parties (`DemoData.seedParties`).
public enum SyntheticLoad {
    /// Adds `count` delivered tasks with running acknowledge clocks (due in 9 days, so only their
    /// reminder can come soon). `due` of them have their reminder spread evenly over `window` seconds
    /// from `start`; the rest are weeks away. Rows go in chunks, so a million fit in memory.
    public static func clocks(
        count: Int, due: Int, start: Date, window: Double, agencies: [String] = ["so-nnmt", "so-xay-dung", "ubnd-cau-giay", "ubnd-dong-da"],
        chunk: Int = 100_000, on client: PostgresClient, progress: (Int) -> Void = { _ in }
    ) async throws {
        try await inChunks(count, of: chunk, progress: progress) { offset, size in
            try await client.withTransaction { connection in
                _ = try await connection.pipeline([
                    """
                    CREATE TEMPORARY TABLE synthetic ON COMMIT DROP AS
                    SELECT \(offset) + i AS n, gen_random_uuid() AS finding_id, gen_random_uuid() AS task_id,
                           (\(agencies)::text[])[1 + (\(offset) + i) % \(agencies.count)] AS agency
                    FROM generate_series(0, \(size - 1)) AS i
                    """,
                    """
                    INSERT INTO findings (id, newsroom_code, article_url, title, published_at, summary, category_code, jurisdiction_code, created_at)
                    SELECT finding_id, 'tuoitre', 'https://tuoitre.vn/bai-' || n || '.htm', 'Phát hiện số ' || n, \(start) - interval '1 day',
                           'Tóm tắt', 'land', 'cau-giay', \(start) - interval '1 day'
                    FROM synthetic
                    """,
                    """
                    INSERT INTO tasks (id, finding_id, agency_code, state, routed_by, assigned_at, delivered_at, deliver_by, updated_at)
                    SELECT task_id, finding_id, agency, 'delivered', 'rule', \(start) - interval '1 day', \(start) - interval '1 day',
                           \(start) - interval '23 hours', \(start) - interval '1 day'
                    FROM synthetic
                    """,
                    """
                    WITH clocks AS (
                        INSERT INTO deadlines (task_id, finding_id, agency_code, newsroom_code, category_code, stage, holder_kind, holder_code, started_at,
                                               due_at, reminder_percent, step_working_days)
                        SELECT task_id, finding_id, agency, 'tuoitre', 'land', 'acknowledge', 'agency', agency, \(start) - interval '1 day',
                               \(start) + interval '9 days', 80, 2
                        FROM synthetic ORDER BY n
                        RETURNING id, task_id
                    )
                    INSERT INTO deadline_timers (deadline_id, next_at)
                    SELECT c.id, CASE WHEN s.n < \(due) THEN \(start) + make_interval(secs => s.n * \(window) / \(max(due, 1)))
                                      ELSE \(start) + interval '7 days' END
                    FROM clocks c JOIN synthetic s ON s.task_id = c.task_id
                    """,
                    DeadlineStore.wakeEngine,
                ])
            }
        }
    }

    /// Runs `body` over `count` rows in chunks of at most `chunk` (its offset and size), reporting the
    /// rows done after each.
    static func inChunks(
        _ count: Int, of chunk: Int, progress: (Int) -> Void, _ body: (_ offset: Int, _ size: Int) async throws -> Void
    ) async throws {
        var done = 0
        while done < count {
            let size = min(chunk, count - done)
            try await body(done, size)
            done += size
            progress(done)
        }
    }
}

extension SyntheticLoad {
    /// Adds `findings` findings assigned evenly between `start` and `end`, each with two tasks (the
    /// category's city department or the coordinator, and the ward's People's Committee) and the events
    /// a year of work leaves: delivery, acknowledgement (3% never), a start, extensions (5%), resolution
    /// (85%, none after `now`), the acknowledge and resolve clocks met or running, and an overdue notice
    /// on every clock that passed its due time. `task_timelines` follows by its triggers, as it does in
    /// service. Deterministic: the same arguments give the same rows (but new ids). For `tipwire-bench
    /// dashboard`; needs the demo parties (`DemoData.seedParties`).
    public static func history(
        findings: Int, start: Date, end: Date, now: Date, chunk: Int = 25_000, on client: PostgresClient, progress: (Int) -> Void = { _ in }
    ) async throws {
        let span = end.timeIntervalSince(start)
        try await inChunks(findings, of: chunk, progress: progress) { offset, size in
            try await client.withTransaction { connection in
                _ = try await connection.pipeline([
                    """
                    CREATE TEMPORARY TABLE synthetic ON COMMIT DROP AS
                    SELECT n, gen_random_uuid() AS finding_id, gen_random_uuid() AS task_a, gen_random_uuid() AS task_b,
                           (ARRAY['land', 'construction', 'procurement', 'budget'])[1 + n % 4] AS category,
                           (ARRAY['cau-giay', 'dong-da'])[1 + (n / 4) % 2] AS jurisdiction,
                           \(start)::timestamptz + make_interval(secs => n::float8 * \(span) / \(findings)) AS assigned,
                           (n * 7919) % 1000 AS r
                    FROM generate_series(\(offset), \(offset + size - 1)) AS n
                    """,
                    """
                    INSERT INTO findings (id, newsroom_code, article_url, title, published_at, summary, category_code, jurisdiction_code, created_at)
                    SELECT finding_id, (ARRAY['tuoitre', 'vnexpress'])[1 + n % 2], 'https://tuoitre.vn/bai-' || n || '.htm', 'Phát hiện số ' || n,
                           assigned - interval '1 day', 'Tóm tắt', category, jurisdiction, assigned
                    FROM synthetic
                    """,
                    // Acknowledged after 10 minutes to about 5 days, most soon; resolved 1 to 36 days later.
                    """
                    CREATE TEMPORARY TABLE synthetic_tasks ON COMMIT DROP AS
                    SELECT s.finding_id, t.task_id, t.agency, s.assigned, s.assigned + interval '3 seconds' AS delivered, a.acknowledged,
                           CASE WHEN a.acknowledged IS NOT NULL AND a.q < 850
                                     AND a.acknowledged + make_interval(secs => 86400 + power(a.q / 1000.0, 2) * 3000000) <= \(now)
                                THEN a.acknowledged + make_interval(secs => 86400 + power(a.q / 1000.0, 2) * 3000000) END AS resolved,
                           CASE WHEN a.acknowledged IS NOT NULL AND a.q % 20 = 3 AND a.acknowledged + interval '20 days' <= \(now)
                                THEN a.acknowledged + interval '20 days' END AS extended
                    FROM synthetic s
                    CROSS JOIN LATERAL (VALUES
                        (0, s.task_a, CASE s.category WHEN 'land' THEN 'so-nnmt' WHEN 'construction' THEN 'so-xay-dung' ELSE 'thanh-tra-tp' END),
                        (1, s.task_b, CASE s.jurisdiction WHEN 'cau-giay' THEN 'ubnd-cau-giay' ELSE 'ubnd-dong-da' END)) AS t(k, task_id, agency)
                    CROSS JOIN LATERAL (SELECT
                        CASE WHEN (s.r + t.k * 37) % 100 < 97 AND s.assigned + interval '5 days' <= \(now)
                             THEN s.assigned + make_interval(secs => 600 + power(((s.r * 13 + t.k * 101) % 1000) / 1000.0, 3) * 400000) END AS acknowledged,
                        (s.r * 31 + t.k * 7) % 1000 AS q) AS a
                    """,
                    """
                    INSERT INTO tasks (id, finding_id, agency_code, state, routed_by, assigned_at, delivered_at, deliver_by, updated_at, extensions, outcome)
                    SELECT task_id, finding_id, agency,
                           CASE WHEN resolved IS NOT NULL THEN 'resolved' WHEN acknowledged IS NOT NULL THEN 'in_progress' ELSE 'delivered' END,
                           'rule', assigned, delivered, assigned + interval '1 hour', coalesce(resolved, extended, acknowledged, delivered),
                           (extended IS NOT NULL AND (resolved IS NULL OR extended < resolved))::int, CASE WHEN resolved IS NOT NULL THEN 'substantiated' END
                    FROM synthetic_tasks
                    """,
                    """
                    INSERT INTO task_events (task_id, kind, actor, at)
                    SELECT task_id, kind, actor, at
                    FROM synthetic_tasks CROSS JOIN LATERAL (VALUES
                        ('assigned', 'tipwire', assigned), ('delivered', 'relay', delivered),
                        ('acknowledged', 'agency:' || agency, acknowledged), ('started', 'agency:' || agency, acknowledged + interval '1 hour'),
                        ('extended', 'agency:' || agency, CASE WHEN resolved IS NULL OR extended < resolved THEN extended END),
                        ('resolved', 'agency:' || agency, resolved)) AS e(kind, actor, at)
                    WHERE at IS NOT NULL
                    ORDER BY at
                    """,
                    """
                    INSERT INTO deadlines (task_id, finding_id, agency_code, newsroom_code, category_code, stage, holder_kind, holder_code, state,
                                           started_at, due_at, reminder_percent, step_working_days, stopped_at)
                    SELECT t.task_id, t.finding_id, t.agency, f.newsroom_code, f.category_code, v.stage, 'agency', t.agency,
                           CASE WHEN v.stopped IS NULL THEN 'running' ELSE 'met' END, v.started, v.due, 80, 2, v.stopped
                    FROM synthetic_tasks t JOIN findings f ON f.id = t.finding_id
                    CROSS JOIN LATERAL (VALUES
                        ('acknowledge', t.delivered, t.delivered + interval '3 days', t.acknowledged),
                        ('resolve', t.acknowledged, t.acknowledged + CASE WHEN t.extended IS NULL THEN interval '30 days' ELSE interval '45 days' END,
                         t.resolved)) AS v(stage, started, due, stopped)
                    WHERE v.started IS NOT NULL
                    """,
                    """
                    INSERT INTO deadline_rungs (id, deadline_id, rung, kind, audience, rung_at, raised_at, raised_by)
                    SELECT gen_random_uuid(), d.id, 1, 'overdue', 'holder', d.due_at, d.due_at, 'synthetic'
                    FROM deadlines d JOIN synthetic_tasks t ON t.task_id = d.task_id
                    WHERE d.due_at < coalesce(d.stopped_at, \(now))
                    """,
                ])
            }
        }
    }
}
