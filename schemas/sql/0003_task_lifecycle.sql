-- The agency's side of the task lifecycle (issue 5): extensions granted and the outcome of a resolved task.
ALTER TABLE tasks
    ADD COLUMN extensions int NOT NULL DEFAULT 0 CHECK (extensions >= 0),
    ADD COLUMN outcome text CHECK (outcome IN ('substantiated', 'partly_substantiated', 'unsubstantiated', 'referred_to_investigation')),
    -- A resolved task has an outcome; reopening it clears the outcome.
    ADD CONSTRAINT tasks_resolved_has_outcome CHECK ((state = 'resolved') = (outcome IS NOT NULL));

-- A task opened because its previous holder transferred it.
ALTER TABLE tasks DROP CONSTRAINT tasks_routed_by_check,
    ADD CONSTRAINT tasks_routed_by_check CHECK (routed_by IN ('rule', 'subject-supervisor', 'coordinator-queue', 'reassignment', 'transfer'));

-- Lists of tasks: all (coordinator), newest first.
CREATE INDEX tasks_by_time ON tasks (assigned_at DESC, id DESC);

-- Responses agencies sent over Kafka and tipwire applied, by CloudEvents id: a repeated id is a no-op.
-- Written in the transaction that applies the response.
CREATE TABLE applied_responses (
    agency_code party_code NOT NULL REFERENCES agencies (code),
    ce_id text NOT NULL CHECK (length(ce_id) BETWEEN 1 AND 200),
    ce_type text NOT NULL,
    task_id uuid NOT NULL REFERENCES tasks (id),
    kafka_topic text NOT NULL,
    kafka_partition int NOT NULL,
    kafka_offset bigint NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agency_code, ce_id)
);

-- Information requests, both ways of the duty to cooperate: an agency asks the finding's newsroom
-- (the task waits in info_requested; the newsroom's clock runs), or a newsroom asks an agency about
-- its progress (Law on Anti-Corruption 2018 Art. 14; the task's state is unchanged).
CREATE TABLE info_requests (
    id uuid PRIMARY KEY,
    task_id uuid NOT NULL REFERENCES tasks (id),
    finding_id uuid NOT NULL REFERENCES findings (id),
    newsroom_code party_code NOT NULL REFERENCES newsrooms (code),
    agency_code party_code NOT NULL REFERENCES agencies (code),
    direction text NOT NULL CHECK (direction IN ('to-newsroom', 'to-agency')),
    questions text NOT NULL CHECK (length(questions) BETWEEN 1 AND 20000),
    documents_wanted jsonb NOT NULL DEFAULT '[]',
    state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'answered', 'declined')),
    due_at timestamptz NOT NULL,
    answer text,
    answer_document_ids uuid[] NOT NULL DEFAULT '{}',
    asked_by text NOT NULL,
    answered_by text,
    created_at timestamptz NOT NULL DEFAULT now(),
    answered_at timestamptz,
    CHECK ((state = 'open') = (answered_at IS NULL))
);
CREATE INDEX info_requests_by_newsroom ON info_requests (newsroom_code, created_at DESC, id DESC);
CREATE INDEX info_requests_by_agency ON info_requests (agency_code, created_at DESC, id DESC);
-- A task waits on at most one open request to the newsroom.
CREATE UNIQUE INDEX info_requests_one_open_per_task ON info_requests (task_id) WHERE state = 'open' AND direction = 'to-newsroom';
