-- The duties tracker (issue 6): a clock per running duty, and the record of every rung of the
-- escalation ladder raised on it. Timers live here, never in memory, so restarts lose no deadline.

-- One duty being timed: a task's acknowledge or resolve stage (the agency's), or an information
-- request's answer (the newsroom's, or the agency's for a newsroom's question). Transitions start,
-- pause, move and stop clocks in the transaction that makes them.
CREATE TABLE deadlines (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id uuid NOT NULL REFERENCES tasks (id),
    request_id uuid REFERENCES info_requests (id),
    stage text NOT NULL CHECK (stage IN ('acknowledge', 'resolve', 'newsroom_answer', 'agency_answer')),
    holder_kind text NOT NULL CHECK (holder_kind IN ('agency', 'newsroom')),
    holder_code party_code NOT NULL,
    state text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'paused', 'met', 'cancelled')),
    started_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    -- Copied from the policy when the clock starts: a later policy change does not move running clocks.
    reminder_percent int NOT NULL CHECK (reminder_percent BETWEEN 1 AND 99),
    step_working_days int NOT NULL CHECK (step_working_days > 0),
    -- The next rung of the ladder to raise, and when; next_at is NULL once the clock is not running
    -- or its ladder is done. The engine claims rows whose next_at has come.
    next_rung int NOT NULL DEFAULT 0 CHECK (next_rung >= 0),
    next_at timestamptz,
    paused_at timestamptz,
    stopped_at timestamptz,
    CHECK ((state = 'paused') = (paused_at IS NOT NULL)),
    CHECK (state IN ('running', 'paused') OR (stopped_at IS NOT NULL AND next_at IS NULL)),
    CHECK (state = 'running' OR next_at IS NULL),
    CHECK ((stage IN ('newsroom_answer', 'agency_answer')) = (request_id IS NOT NULL))
);
CREATE INDEX deadlines_due ON deadlines (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX deadlines_by_task ON deadlines (task_id);
CREATE INDEX deadlines_open_by_due ON deadlines (due_at) WHERE state IN ('running', 'paused');
-- One open clock per task stage, and per request.
CREATE UNIQUE INDEX deadlines_one_open_per_stage ON deadlines (task_id, stage) WHERE state IN ('running', 'paused') AND request_id IS NULL;
CREATE UNIQUE INDEX deadlines_one_open_per_request ON deadlines (request_id) WHERE state IN ('running', 'paused');

-- Every rung raised: the primary key makes each rung of each clock happen exactly once, whatever the
-- engine's crashes and retries. Raised in the transaction that writes its outbox rows.
-- Coordinators acknowledge escalations here, with a note.
CREATE TABLE deadline_rungs (
    id uuid PRIMARY KEY,
    deadline_id bigint NOT NULL REFERENCES deadlines (id),
    rung int NOT NULL CHECK (rung >= 0),
    kind text NOT NULL CHECK (kind IN ('reminder', 'overdue', 'escalation')),
    audience text NOT NULL,
    -- When the ladder said the rung falls due, and when the engine raised it.
    rung_at timestamptz NOT NULL,
    raised_at timestamptz NOT NULL,
    -- The engine instance that raised it.
    raised_by text NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by text,
    note text CHECK (length(note) <= 2000),
    UNIQUE (deadline_id, rung),
    CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL))
);
CREATE INDEX deadline_rungs_by_time ON deadline_rungs (raised_at DESC, id DESC) WHERE kind <> 'reminder';
