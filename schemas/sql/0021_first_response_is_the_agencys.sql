-- "First response" counts only the agency's own actions (docs/analytics.md). The coordinator's
-- reassignment is a transfer too, but made by the coordinator (actor `coordinator:…`): it ends the task
-- without being the agency's response. Both folds change, and every timeline is computed again.
CREATE OR REPLACE FUNCTION task_timelines_follow() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO task_timelines (task_id, finding_id, agency_code, newsroom_code, category_code, jurisdiction_code, assigned_at, deliver_by)
    SELECT t.id, f.id, t.agency_code, f.newsroom_code, f.category_code, f.jurisdiction_code, e.at, t.deliver_by
    FROM new_events e JOIN tasks t ON t.id = e.task_id JOIN findings f ON f.id = t.finding_id
    WHERE e.kind = 'assigned'
    ON CONFLICT (task_id) DO NOTHING;

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
               count(*) FILTER (WHERE kind = 'extended')::int AS extensions
        FROM new_events WHERE kind <> 'assigned' GROUP BY task_id
    ) s
    WHERE tl.task_id = s.task_id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION task_timelines_rebuild() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    written bigint;
BEGIN
    DELETE FROM task_timelines;
    INSERT INTO task_timelines (task_id, finding_id, agency_code, newsroom_code, category_code, jurisdiction_code, assigned_at, deliver_by,
                                delivered_at, acknowledged_at, first_response_at, resolved_at, declined_at, transferred_at, ended_at, ended_as, extensions)
    SELECT t.id, f.id, t.agency_code, f.newsroom_code, f.category_code, f.jurisdiction_code, s.assigned_at, t.deliver_by,
           s.delivered_at, s.acknowledged_at, s.first_response_at, s.resolved_at, s.declined_at, s.transferred_at,
           CASE WHEN s.last_reopen_id > coalesce(s.last_end_id, 0) THEN NULL ELSE s.last_end_at END,
           CASE WHEN s.last_reopen_id > coalesce(s.last_end_id, 0) THEN NULL ELSE s.last_end_kind END,
           s.extensions
    FROM (
        SELECT task_id,
               min(at) FILTER (WHERE kind = 'assigned') AS assigned_at,
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
               count(*) FILTER (WHERE kind = 'extended')::int AS extensions
        FROM task_events GROUP BY task_id
    ) s JOIN tasks t ON t.id = s.task_id JOIN findings f ON f.id = t.finding_id
    WHERE s.assigned_at IS NOT NULL;
    GET DIAGNOSTICS written = ROW_COUNT;
    PERFORM task_timelines_clocks(d) FROM (SELECT array_agg(id) AS d FROM deadlines WHERE stage IN ('acknowledge', 'resolve')) a;
    RETURN written;
END $$;

SELECT task_timelines_rebuild();
