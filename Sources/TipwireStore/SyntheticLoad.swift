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
        var done = 0
        while done < count {
            let size = min(chunk, count - done)
            let offset = done
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
            done += size
            progress(done)
        }
    }
}
