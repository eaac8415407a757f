-- Protection cases: a source or journalist faces retaliation; a protecting agency, chosen by rule, must
-- acknowledge and resolve the case on its own clocks. Their figures show the plan's target that everyone
-- who reports corruption is protected (docs/protection-cases.md).

-- Which agency protects people in a jurisdiction: the rule of the nearest jurisdiction up the tree wins;
-- without one, the coordinator takes the case.
CREATE TABLE protection_rules (
    jurisdiction_code party_code PRIMARY KEY REFERENCES jurisdictions (code),
    agency_code party_code NOT NULL REFERENCES agencies (code)
);

ALTER TABLE deadline_policies DROP CONSTRAINT deadline_policies_stage_check;
ALTER TABLE deadline_policies ADD CONSTRAINT deadline_policies_stage_check
    CHECK (stage IN ('deliver', 'acknowledge', 'resolve', 'extension', 'newsroom_answer', 'agency_answer', 'disclosure_decision',
                     'protection_acknowledge', 'protection_resolve'));
INSERT INTO deadline_policies (category_code, stage, amount, unit, max_extensions, ladder_step_working_days, legal_basis) VALUES
    (NULL, 'protection_acknowledge', 24, 'hours', 0, 1,
     'Law on Denunciations 2018, Chapter VI (protecting denunciators): a threat is handled at once; tipwire default 24 hours'),
    (NULL, 'protection_resolve', 7, 'days', 0, 1,
     'Law on Denunciations 2018, Chapter VI: protective measures decided and applied; tipwire default 7 days from acknowledgement');

CREATE TABLE protection_cases (
    id uuid PRIMARY KEY,
    opened_by text NOT NULL,
    opened_by_kind text NOT NULL CHECK (opened_by_kind IN ('newsroom', 'agency')),
    opened_by_code party_code NOT NULL,
    newsroom_code party_code NOT NULL REFERENCES newsrooms (code),
    person text NOT NULL CHECK (person IN ('source', 'journalist')),
    retaliation text NOT NULL CHECK (retaliation IN ('threat', 'harassment', 'dismissal', 'violence', 'other')),
    jurisdiction_code party_code NOT NULL REFERENCES jurisdictions (code),
    finding_id uuid REFERENCES findings (id),
    -- The person's details, sealed to the newsroom's source key, stored like a source envelope.
    details_handle text UNIQUE REFERENCES source_envelopes (handle),
    protecting_agency_code party_code NOT NULL REFERENCES agencies (code),
    state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'acknowledged', 'resolved')),
    opened_at timestamptz NOT NULL,
    acknowledge_due_at timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by text,
    resolve_due_at timestamptz,
    resolved_at timestamptz,
    resolved_by text,
    outcome text CHECK (outcome IN ('protected', 'not-protected', 'withdrawn')),
    outcome_note text CHECK (length(outcome_note) <= 5000),
    -- The ladder's spacing, from the policies when the case opened.
    reminder_percent int NOT NULL,
    step_working_days int NOT NULL,
    CHECK ((state = 'open') = (acknowledged_at IS NULL)),
    CHECK ((acknowledged_at IS NULL) = (resolve_due_at IS NULL)),
    CHECK ((state = 'resolved') = (resolved_at IS NOT NULL) AND (resolved_at IS NULL) = (outcome IS NULL))
);
CREATE INDEX protection_cases_by_newsroom ON protection_cases (newsroom_code, opened_at DESC, id DESC);
CREATE INDEX protection_cases_by_agency ON protection_cases (protecting_agency_code, opened_at DESC, id DESC);
