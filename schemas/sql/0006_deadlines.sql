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
    -- What the ladder's events say of the duty, copied when the clock starts, so raising a rung reads
    -- this row alone: the finding, the task's agency, the newsroom, the category.
    finding_id uuid NOT NULL REFERENCES findings (id),
    agency_code party_code NOT NULL,
    newsroom_code party_code NOT NULL,
    category_code text NOT NULL,
    state text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'paused', 'met', 'cancelled')),
    started_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    -- Copied from the policy when the clock starts: a later policy change does not move running clocks.
    reminder_percent int NOT NULL CHECK (reminder_percent BETWEEN 1 AND 99),
    step_working_days int NOT NULL CHECK (step_working_days > 0),
    paused_at timestamptz,
    stopped_at timestamptz,
    CHECK ((state = 'paused') = (paused_at IS NOT NULL)),
    CHECK ((state IN ('running', 'paused')) = (stopped_at IS NULL)),
    CHECK ((stage IN ('newsroom_answer', 'agency_answer')) = (request_id IS NOT NULL))
);
CREATE INDEX deadlines_open_by_due ON deadlines (due_at) WHERE state IN ('running', 'paused');
-- One open clock per task stage (request_id NULL), and per request; also how transitions find a task's
-- open clocks. One index for the three: every index keyed by a task's random UUID costs each new
-- clock (one per delivered task, in the relay's statement) a write on a random page.
CREATE UNIQUE INDEX deadlines_one_open ON deadlines (task_id, stage, request_id) NULLS NOT DISTINCT WHERE state IN ('running', 'paused');

-- Where each clock stands on its ladder: the next rung to raise, and when (NULL while the clock is
-- paused or stopped, or once its ladder is done). A narrow table of its own, so the engine's updates
-- touch neither the clock's row nor its indexes; the engine claims rows whose next_at has come.
-- No foreign key here or on deadline_rungs: both are written only in the transaction that holds their
-- clock, and clocks are never deleted; a key check takes a share lock on the clock's row, which writes
-- its page, and cost as much as the engine's own write per rung.
CREATE TABLE deadline_timers (
    deadline_id bigint PRIMARY KEY,
    next_rung int NOT NULL DEFAULT 0 CHECK (next_rung >= 0),
    next_at timestamptz
);
CREATE INDEX deadline_timers_due ON deadline_timers (next_at) WHERE next_at IS NOT NULL;

-- Every rung raised: the unique (deadline_id, rung) makes each rung of each clock happen exactly once,
-- whatever the engine's crashes and retries. Raised in the transaction that writes its outbox rows.
-- Coordinators acknowledge escalations here, with a note.
CREATE TABLE deadline_rungs (
    -- Time-ordered (UUID version 7), so the key's index grows at one end.
    id uuid PRIMARY KEY,
    deadline_id bigint NOT NULL,
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
