-- Parties, routing, findings, tasks, documents, the outbox, idempotency keys and API tokens (issue 4).
-- Codes follow PartyCode: they name Kafka topics, so [a-z0-9-], at most 63 characters.

CREATE DOMAIN party_code AS text
    CHECK (VALUE ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$');

CREATE TABLE newsrooms (
    code party_code PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Administrative areas: the city and its wards and communes (no district level since 1 July 2025).
CREATE TABLE jurisdictions (
    code party_code PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    parent_code party_code REFERENCES jurisdictions (code),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agencies (
    code party_code PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind text NOT NULL CHECK (kind IN ('inspectorate', 'department', 'people-committee', 'police', 'procuracy', 'court', 'leadership', 'other')),
    -- The supervising body: where findings about this agency also go when a rule says so.
    parent_code party_code REFERENCES agencies (code),
    jurisdiction_code party_code REFERENCES jurisdictions (code),
    -- The coordinator's queue receives findings no rule matches. Exactly one agency holds it.
    is_coordinator boolean NOT NULL DEFAULT false,
    joined_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (parent_code IS DISTINCT FROM code)
);
CREATE UNIQUE INDEX agencies_one_coordinator ON agencies (is_coordinator) WHERE is_coordinator;

-- A rule routes findings of a category (NULL: any) in a jurisdiction (NULL: any) either to a named
-- agency or to the supervising body (parent) of the finding's subject agency.
CREATE TABLE routing_rules (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category_code text REFERENCES categories (code),
    jurisdiction_code party_code REFERENCES jurisdictions (code),
    target text NOT NULL CHECK (target IN ('agency', 'subject-supervisor')),
    agency_code party_code REFERENCES agencies (code),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((target = 'agency') = (agency_code IS NOT NULL))
);
CREATE UNIQUE INDEX routing_rules_unique ON routing_rules (
    coalesce(category_code, '*'), coalesce(jurisdiction_code::text, '*'), target, coalesce(agency_code::text, '*'));

CREATE TABLE api_tokens (
    id uuid PRIMARY KEY,
    -- SHA-256 of the bearer token; the token itself is shown once and never stored.
    token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    role text NOT NULL CHECK (role IN ('liaison', 'agency', 'coordinator', 'auditor', 'admin')),
    newsroom_code party_code REFERENCES newsrooms (code),
    agency_code party_code REFERENCES agencies (code),
    label text NOT NULL DEFAULT '' CHECK (length(label) <= 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CHECK (CASE role
        WHEN 'liaison' THEN newsroom_code IS NOT NULL AND agency_code IS NULL
        WHEN 'agency' THEN agency_code IS NOT NULL AND newsroom_code IS NULL
        WHEN 'coordinator' THEN agency_code IS NOT NULL AND newsroom_code IS NULL
        ELSE newsroom_code IS NULL AND agency_code IS NULL
    END)
);

-- Document bytes, stored once per content hash whoever uploads them.
CREATE TABLE document_blobs (
    sha256 bytea PRIMARY KEY CHECK (length(sha256) = 32),
    size bigint NOT NULL CHECK (size >= 0),
    content bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE document_blobs ALTER COLUMN content SET STORAGE EXTERNAL;

-- A newsroom's handle on a blob. The same newsroom uploading the same bytes gets the same document.
CREATE TABLE documents (
    id uuid PRIMARY KEY,
    newsroom_code party_code NOT NULL REFERENCES newsrooms (code),
    sha256 bytea NOT NULL REFERENCES document_blobs (sha256),
    media_type text NOT NULL CHECK (length(media_type) BETWEEN 3 AND 255),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (newsroom_code, sha256)
);

CREATE TABLE findings (
    id uuid PRIMARY KEY,
    newsroom_code party_code NOT NULL REFERENCES newsrooms (code),
    article_url text NOT NULL CHECK (article_url ~ '^https?://' AND length(article_url) <= 2048),
    title text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    published_at timestamptz NOT NULL,
    summary text NOT NULL CHECK (length(summary) BETWEEN 1 AND 20000),
    category_code text NOT NULL REFERENCES categories (code),
    jurisdiction_code party_code NOT NULL REFERENCES jurisdictions (code),
    subject_agency_code party_code REFERENCES agencies (code),
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (published_at <= created_at + interval '5 minutes')
);
CREATE INDEX findings_by_time ON findings (created_at DESC, id DESC);
CREATE INDEX findings_by_newsroom ON findings (newsroom_code, created_at DESC, id DESC);
CREATE INDEX findings_by_category ON findings (category_code, created_at DESC);

CREATE TABLE finding_documents (
    finding_id uuid NOT NULL REFERENCES findings (id),
    document_id uuid NOT NULL REFERENCES documents (id),
    position int NOT NULL CHECK (position >= 0),
    PRIMARY KEY (finding_id, document_id)
);
CREATE INDEX finding_documents_by_document ON finding_documents (document_id);

-- States of issue 5's lifecycle; this issue writes assigned, delivered and transferred (reassignment).
CREATE TABLE tasks (
    id uuid PRIMARY KEY,
    finding_id uuid NOT NULL REFERENCES findings (id),
    agency_code party_code NOT NULL REFERENCES agencies (code),
    state text NOT NULL CHECK (state IN ('assigned', 'delivered', 'acknowledged', 'in_progress', 'info_requested',
        'resolved', 'declined', 'transferred', 'closed')),
    -- Why the task exists: the routing rule, the subject's supervisor, the coordinator's queue, or a reassignment.
    routed_by text NOT NULL CHECK (routed_by IN ('rule', 'subject-supervisor', 'coordinator-queue', 'reassignment')),
    previous_task_id uuid REFERENCES tasks (id),
    assigned_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    deliver_by timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_by_finding ON tasks (finding_id);
CREATE INDEX tasks_by_agency ON tasks (agency_code, state, assigned_at DESC);
-- One open task per agency and finding.
CREATE UNIQUE INDEX tasks_one_open_per_agency ON tasks (finding_id, agency_code)
    WHERE state NOT IN ('resolved', 'declined', 'transferred', 'closed');

-- Append-only history of every task.
CREATE TABLE task_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id uuid NOT NULL REFERENCES tasks (id),
    kind text NOT NULL CHECK (kind ~ '^[a-z_]+$'),
    actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    at timestamptz NOT NULL DEFAULT now(),
    detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX task_events_by_task ON task_events (task_id, id);
-- The delivery record: a task is delivered once, however often the relay retries.
CREATE UNIQUE INDEX task_events_delivered_once ON task_events (task_id) WHERE kind = 'delivered';

CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER task_events_append_only BEFORE UPDATE OR DELETE ON task_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- Events waiting for Kafka: every row here is unsent. Rows are written in the transaction that caused
-- them; the relay produces them in id order and, after the delivery reports, deletes them and records
-- the delivery in outbox_deliveries, in one transaction. (Deleting a row and inserting a narrow record
-- costs far less than updating a row that carries its payload.)
CREATE TABLE outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ce_id uuid NOT NULL,
    ce_type text NOT NULL,
    ce_subject text NOT NULL,
    ce_time timestamptz NOT NULL DEFAULT now(),
    topic text NOT NULL CHECK (topic ~ '^[a-zA-Z0-9._-]{1,249}$'),
    message_key text NOT NULL,
    -- The event's JSON data. text, not bytea: it is always UTF-8 JSON, and text travels without hex encoding.
    payload text NOT NULL,
    -- The task this event delivers (task.assigned): its delivery is recorded when the event is acknowledged.
    delivers_task_id uuid REFERENCES tasks (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Where each event landed. A relay that dies between the delivery report and this record produces the
-- event again (consumers deduplicate by ce_id); the first delivery recorded is kept.
CREATE TABLE outbox_deliveries (
    ce_id uuid PRIMARY KEY,
    ce_type text NOT NULL,
    topic text NOT NULL,
    ce_time timestamptz NOT NULL,
    sent_at timestamptz NOT NULL,
    kafka_partition int NOT NULL,
    kafka_offset bigint NOT NULL
);

-- Idempotency-Key records: the same key and body replay the stored response.
CREATE TABLE idempotency_keys (
    scope text NOT NULL,
    key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_sha256 bytea NOT NULL,
    status int NOT NULL,
    response text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
