-- Figures summed ahead (docs/analytics.md#rollups, ADR 0009). The timelines stay the only input: a
-- row here is a function of task_timelines, deadline_rungs and the calendar, and `tipwire stats rebuild`
-- recomputes them all. Per assignment day (Hanoi time), and per aligned block of 2, 4, … 512 days (level
-- k holds 2^k days from first_day, a multiple of 2^k; days are numbered from 1970-01-01), and per value
-- of one dimension (agency, category, jurisdiction, or 'all'), the sums the pages read.

-- Per stage: the spans that finished, those judged against a duty clock and those on time, and two
-- histograms as sparse arrays (bucket, count): hours on DDSketch's logarithmic scale (within 1%) and
-- working days (exact).
CREATE TABLE stats_rollup_stages (
    dimension text NOT NULL CHECK (dimension IN ('all', 'agency', 'category', 'jurisdiction')),
    level smallint NOT NULL CHECK (level BETWEEN 0 AND 9),
    first_day int NOT NULL CHECK (first_day % (1 << level) = 0),
    group_key text NOT NULL,
    stage text NOT NULL CHECK (stage IN ('deliver', 'acknowledge', 'first_response', 'resolve')),
    spans int NOT NULL,
    judged int NOT NULL,
    on_time int NOT NULL,
    hour_buckets int[] NOT NULL,
    hour_counts int[] NOT NULL,
    day_buckets int[] NOT NULL,
    day_counts int[] NOT NULL,
    PRIMARY KEY (level, first_day, dimension, group_key, stage)
);

-- Per group: the tasks, extensions, transfers, declines, the tasks no longer waiting on the agency, the
-- overdue notices and escalations raised on the duties the task's agency holds, and the findings whose
-- first task of the group was assigned that day, with those none of whose tasks of the group is open.
CREATE TABLE stats_rollup_groups (
    dimension text NOT NULL CHECK (dimension IN ('all', 'agency', 'category', 'jurisdiction')),
    level smallint NOT NULL CHECK (level BETWEEN 0 AND 9),
    first_day int NOT NULL CHECK (first_day % (1 << level) = 0),
    group_key text NOT NULL,
    tasks int NOT NULL,
    extensions int NOT NULL,
    transfers int NOT NULL,
    declines int NOT NULL,
    ended int NOT NULL,
    escalations int NOT NULL,
    findings int NOT NULL,
    findings_settled int NOT NULL,
    PRIMARY KEY (level, first_day, dimension, group_key)
);

-- Days whose sums are stale: marked in the transaction that changes what they sum, folded by the
-- deadline engine (the single active worker), which deletes the marks it has folded.
CREATE TABLE stats_rollup_dirty (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    first_day int NOT NULL,
    last_day int NOT NULL,
    CHECK (first_day <= last_day)
);

-- The watermark: every change committed before folded_at is in the sums.
CREATE TABLE stats_rollup_state (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    folded_at timestamptz
);
INSERT INTO stats_rollup_state (folded_at) VALUES (NULL);

CREATE FUNCTION stats_rollup_day(at timestamptz) RETURNS int LANGUAGE sql IMMUTABLE AS $$
    SELECT ((at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date - date '1970-01-01')
$$;

-- A task's events, or its duty clocks, changed its timeline: its assignment day is stale. A task that
-- is assigned, ends or is reopened also changes whether its finding is settled, which the days of the
-- finding's other tasks hold: those are stale too. These run after the triggers that fold the
-- timelines (named so they sort after them), on the transition tables those already capture.
-- PL/pgSQL, not SQL: its plans are kept for the session, where a SQL function's are made on every call.
CREATE FUNCTION stats_rollup_mark_tasks(changed uuid[], settling uuid[]) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO stats_rollup_dirty (first_day, last_day)
    SELECT DISTINCT d, d FROM (
        SELECT stats_rollup_day(tl.assigned_at) AS d FROM task_timelines tl WHERE tl.task_id = ANY(changed)
        UNION ALL
        SELECT stats_rollup_day(tl.assigned_at)
        FROM (SELECT DISTINCT t.finding_id FROM tasks t WHERE t.id = ANY(settling)) f
        JOIN tasks t ON t.finding_id = f.finding_id JOIN task_timelines tl ON tl.task_id = t.id
    ) days;
END $$;
CREATE FUNCTION stats_rollup_mark_events() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM stats_rollup_mark_tasks(
        array_agg(DISTINCT task_id),
        coalesce(array_agg(DISTINCT task_id) FILTER (WHERE kind IN ('assigned', 'resolved', 'declined', 'transferred', 'closed', 'reopened')), '{}'))
    FROM new_events;
    RETURN NULL;
END $$;
CREATE TRIGGER task_events_mark_rollups AFTER INSERT ON task_events
    REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_mark_events();
CREATE FUNCTION stats_rollup_mark_clocks() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    PERFORM stats_rollup_mark_tasks(array_agg(DISTINCT task_id), '{}') FROM changed_clocks WHERE stage IN ('acknowledge', 'resolve')
    HAVING count(*) > 0;
    RETURN NULL;
END $$;
CREATE TRIGGER deadlines_started_mark_rollups AFTER INSERT ON deadlines
    REFERENCING NEW TABLE AS changed_clocks FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_mark_clocks();
CREATE TRIGGER deadlines_moved_mark_rollups AFTER UPDATE ON deadlines
    REFERENCING NEW TABLE AS changed_clocks FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_mark_clocks();

-- An overdue notice or escalation on an agency's duty: its task's day counts one more.
CREATE FUNCTION stats_rollup_mark_rungs() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO stats_rollup_dirty (first_day, last_day)
    SELECT DISTINCT stats_rollup_day(tl.assigned_at), stats_rollup_day(tl.assigned_at)
    FROM raised_rungs r JOIN deadlines d ON d.id = r.deadline_id JOIN task_timelines tl ON tl.task_id = d.task_id
    WHERE r.kind IN ('overdue', 'escalation') AND d.holder_kind = 'agency';
    RETURN NULL;
END $$;
CREATE TRIGGER stats_rollup_rungs_raised AFTER INSERT ON deadline_rungs
    REFERENCING NEW TABLE AS raised_rungs FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_mark_rungs();

-- Working days depend on the holidays and swapped days as they stand, and the sums count only tasks
-- assigned after their agency joined: a change to either makes every day stale.
CREATE FUNCTION stats_rollup_mark_all() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO stats_rollup_dirty (first_day, last_day) VALUES (0, 100000);
    RETURN NULL;
END $$;
CREATE TRIGGER stats_rollup_holidays_changed AFTER INSERT OR UPDATE OR DELETE ON holidays
    FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_mark_all();
CREATE TRIGGER stats_rollup_overrides_changed AFTER INSERT OR UPDATE OR DELETE ON working_overrides
    FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_mark_all();
CREATE TRIGGER stats_rollup_joined_changed AFTER UPDATE OF joined_at ON agencies
    FOR EACH STATEMENT EXECUTE FUNCTION stats_rollup_mark_all();

-- Whatever history exists when this migration runs is stale.
INSERT INTO stats_rollup_dirty (first_day, last_day) VALUES (0, 100000);

-- The second wall (ADR 0007), as on task_timelines: an agency reads its own sums only; the deadline
-- engine (system) writes them.
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['stats_rollup_stages', 'stats_rollup_groups'] LOOP
        EXECUTE format($p$CREATE POLICY %I ON %I FOR SELECT USING (
            tipwire_sees_all() OR (tipwire_role() = 'agency' AND dimension = 'agency' AND group_key = tipwire_agency()::text))$p$,
            name || '_read', name);
        EXECUTE format('CREATE POLICY %I ON %I FOR INSERT WITH CHECK (tipwire_role() = ''system'')', name || '_insert', name);
        EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE USING (tipwire_role() = ''system'')', name || '_update', name);
        EXECUTE format('CREATE POLICY %I ON %I FOR DELETE USING (tipwire_role() = ''system'')', name || '_delete', name);
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
    END LOOP;
END
$$;
