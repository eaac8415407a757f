-- Response-latency analytics (issue 14, docs/analytics.md): one row per task with the instants its events
-- mark, kept in step with task_events by a trigger in the transaction that appends them. task_events stays
-- the only source of truth: the row is a function of the task's events (and the task's finding, for the
-- grouping columns), and `tipwire stats --rebuild` recomputes every row from them. Latencies, percentiles
-- and working days are computed at query time, so a calendar loaded later applies to the past too.
CREATE TABLE task_timelines (
    task_id uuid PRIMARY KEY,
    finding_id uuid NOT NULL,
    agency_code party_code NOT NULL,
    newsroom_code party_code NOT NULL,
    category_code text NOT NULL,
    jurisdiction_code party_code NOT NULL,
    assigned_at timestamptz NOT NULL,
    deliver_by timestamptz NOT NULL,
    delivered_at timestamptz,
    acknowledged_at timestamptz,
    -- The agency's first action of any kind after delivery (acknowledge, start, ask, extend, transfer,
    -- decline, resolve).
    first_response_at timestamptz,
    -- The first resolution (a reopened task keeps it: the first answer is what the press was given).
    resolved_at timestamptz,
    -- The first decline and the transfer, if any.
    declined_at timestamptz,
    transferred_at timestamptz,
    -- When the task last left the agency's hands (resolved, declined, transferred, closed), and how;
    -- cleared when it is reopened. NULL: the task is open.
    ended_at timestamptz,
    ended_as text CHECK (ended_as IN ('resolved', 'declined', 'transferred', 'closed')),
    extensions int NOT NULL DEFAULT 0,
    -- The duty clocks of the acknowledge and resolve stages (the first of each) and their due time as it
    -- stands (extensions and pauses move it): what "on time" is judged against.
    acknowledge_clock bigint,
    acknowledge_due_at timestamptz,
    resolve_clock bigint,
    resolve_due_at timestamptz,
    CHECK ((ended_at IS NULL) = (ended_as IS NULL))
);
CREATE INDEX task_timelines_by_agency ON task_timelines (agency_code, assigned_at);
CREATE INDEX task_timelines_by_time ON task_timelines (assigned_at);
CREATE INDEX task_timelines_open ON task_timelines (agency_code, assigned_at) WHERE ended_at IS NULL;

-- The fold of a batch of events into timelines: new tasks first, then each task's instants. Runs as the
-- owner (the service's role may only read timelines), once per INSERT statement, over all its rows.
CREATE FUNCTION task_timelines_follow() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
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
               min(at) FILTER (WHERE kind IN ('acknowledged', 'started', 'info_requested', 'extended', 'transferred', 'declined', 'resolved'))
                   AS first_response_at,
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

CREATE TRIGGER task_events_fold_timelines AFTER INSERT ON task_events
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION task_timelines_follow();

-- Recomputes every timeline from task_events (the migration's backfill, and `tipwire stats --rebuild`).
CREATE FUNCTION task_timelines_rebuild() RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
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
               min(at) FILTER (WHERE kind IN ('acknowledged', 'started', 'info_requested', 'extended', 'transferred', 'declined', 'resolved'))
                   AS first_response_at,
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

-- The clocks among `clocks`: the first clock of a stage becomes the task's, and its due time follows it.
CREATE FUNCTION task_timelines_clocks(clocks bigint[]) RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    UPDATE task_timelines tl SET acknowledge_clock = c.id, acknowledge_due_at = c.due_at
    FROM (SELECT DISTINCT ON (task_id) task_id, id, due_at FROM deadlines WHERE id = ANY(clocks) AND stage = 'acknowledge' ORDER BY task_id, id) c
    WHERE tl.task_id = c.task_id AND (tl.acknowledge_clock IS NULL OR tl.acknowledge_clock = c.id);
    UPDATE task_timelines tl SET resolve_clock = c.id, resolve_due_at = c.due_at
    FROM (SELECT DISTINCT ON (task_id) task_id, id, due_at FROM deadlines WHERE id = ANY(clocks) AND stage = 'resolve' ORDER BY task_id, id) c
    WHERE tl.task_id = c.task_id AND (tl.resolve_clock IS NULL OR tl.resolve_clock = c.id);
$$;

CREATE FUNCTION task_timelines_follow_clocks() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM task_timelines_clocks(array_agg(id)) FROM changed_clocks WHERE stage IN ('acknowledge', 'resolve') HAVING count(*) > 0;
    RETURN NULL;
END $$;
CREATE TRIGGER deadlines_started_fold_timelines AFTER INSERT ON deadlines
    REFERENCING NEW TABLE AS changed_clocks FOR EACH STATEMENT EXECUTE FUNCTION task_timelines_follow_clocks();
CREATE TRIGGER deadlines_moved_fold_timelines AFTER UPDATE ON deadlines
    REFERENCING NEW TABLE AS changed_clocks FOR EACH STATEMENT EXECUTE FUNCTION task_timelines_follow_clocks();

SELECT task_timelines_rebuild();

-- The second wall (ADR 0007): an agency reads its own tasks' timelines, a liaison its newsroom's.
CREATE POLICY task_timelines_read ON task_timelines FOR SELECT USING (
    tipwire_sees_all()
    OR (tipwire_role() = 'liaison' AND newsroom_code = tipwire_newsroom())
    OR (tipwire_role() = 'agency' AND agency_code = tipwire_agency()));
ALTER TABLE task_timelines ENABLE ROW LEVEL SECURITY;
