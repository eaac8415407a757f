-- The rollups' stale days (0023) were marked by triggers of their own on task_events and deadlines. Each
-- cost every statement writing events or clocks one more trigger call and a second look-up of every
-- changed task's timeline: the response consumer applied a third fewer responses a second, and one
-- response per transaction ran about 15% slower (tipwire-bench responses --rollups on|off). The folds
-- that keep the timelines (0017, 0020, 0021) already hold each timeline they change: they now mark its
-- day themselves, from the rows they write, and only when a timeline is written. A clock stopped or
-- written again with the due time its timeline already has no longer writes the timeline, nor marks it.
-- The marks are as before: the assignment day of every task whose timeline changed, and, when a task is
-- assigned, ends or is reopened (which changes whether its finding is settled), the days of the
-- finding's other tasks.
DROP TRIGGER task_events_mark_rollups ON task_events;
DROP TRIGGER deadlines_started_mark_rollups ON deadlines;
DROP TRIGGER deadlines_moved_mark_rollups ON deadlines;
DROP FUNCTION stats_rollup_mark_events();
DROP FUNCTION stats_rollup_mark_clocks();
DROP FUNCTION stats_rollup_mark_tasks(uuid[], uuid[]);

CREATE OR REPLACE FUNCTION task_timelines_follow() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    WITH assigned AS (
        INSERT INTO task_timelines (task_id, finding_id, agency_code, newsroom_code, category_code, jurisdiction_code, assigned_at, deliver_by)
        SELECT t.id, f.id, t.agency_code, f.newsroom_code, f.category_code, f.jurisdiction_code, e.at, t.deliver_by
        FROM new_events e JOIN tasks t ON t.id = e.task_id JOIN findings f ON f.id = t.finding_id
        WHERE e.kind = 'assigned'
        ON CONFLICT (task_id) DO NOTHING
        RETURNING finding_id, assigned_at
    )
    INSERT INTO stats_rollup_dirty (first_day, last_day)
    SELECT DISTINCT d, d FROM (
        SELECT stats_rollup_day(assigned_at) AS d FROM assigned
        UNION ALL
        SELECT stats_rollup_day(tl.assigned_at)
        FROM (SELECT DISTINCT finding_id FROM assigned) f JOIN tasks t ON t.finding_id = f.finding_id JOIN task_timelines tl ON tl.task_id = t.id
    ) days;

    WITH changed AS (
        UPDATE task_timelines tl SET
            delivered_at = coalesce(tl.delivered_at, s.delivered_at),
            acknowledged_at = coalesce(tl.acknowledged_at, s.acknowledged_at),
            first_response_at = coalesce(tl.first_response_at, s.first_response_at),
            resolved_at = coalesce(tl.resolved_at, s.resolved_at),
            declined_at = coalesce(tl.declined_at, s.declined_at),
            transferred_at = coalesce(tl.transferred_at, s.transferred_at),
            ended_at = CASE WHEN s.last_end_id IS NULL AND s.last_reopen_id IS NULL THEN tl.ended_at
                            WHEN s.last_reopen_id > coalesce(s.last_end_id, 0) THEN NULL ELSE s.last_end_at END,
            ended_as = CASE WHEN s.last_end_id IS NULL AND s.last_reopen_id IS NULL THEN tl.ended_as
                            WHEN s.last_reopen_id > coalesce(s.last_end_id, 0) THEN NULL ELSE s.last_end_kind END,
            extensions = tl.extensions + s.extensions
        FROM (
            SELECT task_id,
                   min(at) FILTER (WHERE kind = 'delivered') AS delivered_at,
                   min(at) FILTER (WHERE kind = 'acknowledged') AS acknowledged_at,
                   min(at) FILTER (WHERE kind IN ('acknowledged', 'started', 'info_requested', 'extended', 'transferred', 'declined', 'resolved')
                                    AND actor NOT LIKE 'coordinator:%') AS first_response_at,
                   min(at) FILTER (WHERE kind = 'resolved') AS resolved_at,
                   min(at) FILTER (WHERE kind = 'declined') AS declined_at,
                   min(at) FILTER (WHERE kind = 'transferred') AS transferred_at,
                   max(id) FILTER (WHERE kind IN ('resolved', 'declined', 'transferred', 'closed')) AS last_end_id,
                   (array_agg(at ORDER BY id DESC) FILTER (WHERE kind IN ('resolved', 'declined', 'transferred', 'closed')))[1] AS last_end_at,
                   (array_agg(kind ORDER BY id DESC) FILTER (WHERE kind IN ('resolved', 'declined', 'transferred', 'closed')))[1] AS last_end_kind,
                   max(id) FILTER (WHERE kind = 'reopened') AS last_reopen_id,
                   count(*) FILTER (WHERE kind = 'extended')::int AS extensions,
                   bool_or(kind IN ('resolved', 'declined', 'transferred', 'closed', 'reopened')) AS settles
            FROM new_events WHERE kind <> 'assigned' GROUP BY task_id
        ) s
        WHERE tl.task_id = s.task_id
        RETURNING tl.finding_id, tl.assigned_at, s.settles
    )
    INSERT INTO stats_rollup_dirty (first_day, last_day)
    SELECT DISTINCT d, d FROM (
        SELECT stats_rollup_day(assigned_at) AS d FROM changed
        UNION ALL
        SELECT stats_rollup_day(tl.assigned_at)
        FROM (SELECT DISTINCT finding_id FROM changed WHERE settles) f JOIN tasks t ON t.finding_id = f.finding_id
        JOIN task_timelines tl ON tl.task_id = t.id
    ) days;
    RETURN NULL;
END $$;

-- Two statements, not two updates in one: a timeline whose two clocks come in one statement (a rebuild)
-- is written by each in turn.
CREATE OR REPLACE FUNCTION task_timelines_clocks(clocks bigint[]) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    WITH changed AS (
        UPDATE task_timelines tl SET acknowledge_clock = c.id, acknowledge_due_at = c.due_at
        FROM (SELECT DISTINCT ON (task_id) task_id, id, due_at FROM deadlines WHERE id = ANY(clocks) AND stage = 'acknowledge' ORDER BY task_id, id) c
        WHERE tl.task_id = c.task_id AND (tl.acknowledge_clock IS NULL OR tl.acknowledge_clock = c.id)
          AND (tl.acknowledge_clock IS NULL OR tl.acknowledge_due_at IS DISTINCT FROM c.due_at)
        RETURNING tl.assigned_at
    )
    INSERT INTO stats_rollup_dirty (first_day, last_day)
    SELECT DISTINCT stats_rollup_day(assigned_at), stats_rollup_day(assigned_at) FROM changed;

    WITH changed AS (
        UPDATE task_timelines tl SET resolve_clock = c.id, resolve_due_at = c.due_at
        FROM (SELECT DISTINCT ON (task_id) task_id, id, due_at FROM deadlines WHERE id = ANY(clocks) AND stage = 'resolve' ORDER BY task_id, id) c
        WHERE tl.task_id = c.task_id AND (tl.resolve_clock IS NULL OR tl.resolve_clock = c.id)
          AND (tl.resolve_clock IS NULL OR tl.resolve_due_at IS DISTINCT FROM c.due_at)
        RETURNING tl.assigned_at
    )
    INSERT INTO stats_rollup_dirty (first_day, last_day)
    SELECT DISTINCT stats_rollup_day(assigned_at), stats_rollup_day(assigned_at) FROM changed;
END $$;
