-- Disclosure requests: an official asks a newsroom to disclose a source, citing a legal basis. The newsroom
-- decides (comply, refuse or contest) on its own clock; the server only records and times the workflow, and
-- holds no source to hand over (docs/disclosure-requests.md).

-- The level of government an agency belongs to. The safe default can ask for nothing; agencies of a
-- top-level jurisdiction (Hà Nội) are provincial.
ALTER TABLE agencies ADD COLUMN level text NOT NULL DEFAULT 'commune' CHECK (level IN ('commune', 'provincial', 'central'));
UPDATE agencies a SET level = 'provincial' FROM jurisdictions j WHERE j.code = a.jurisdiction_code AND j.parent_code IS NULL;

-- Who may ask, for which crimes, while in force: data, kept current by operators as the law changes.
CREATE TABLE legal_bases (
    code text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    citation text NOT NULL CHECK (length(citation) BETWEEN 1 AND 2000),
    requester_kinds text[] NOT NULL CHECK (cardinality(requester_kinds) > 0),
    minimum_level text NOT NULL CHECK (minimum_level IN ('commune', 'provincial', 'central')),
    crime_classes text[] NOT NULL CHECK (cardinality(crime_classes) > 0
        AND crime_classes <@ ARRAY['less-serious', 'serious', 'very-serious', 'especially-serious']),
    in_force_from date NOT NULL,
    -- The first day it no longer applies; NULL while in force.
    in_force_until date CHECK (in_force_until > in_force_from)
);
INSERT INTO legal_bases VALUES
    ('press-law-2016',
     'Press Law 2016 (Luật Báo chí, No. 103/2016/QH13): a journalist and press agency may not disclose an informant except on the '
     || 'written request of the Chief Procurator of a provincial-level People''s Procuracy or the Chief Judge of a provincial-level '
     || 'People''s Court or higher, where needed to investigate or try a very serious or especially serious crime; the requester '
     || 'must then protect the informant.',
     ARRAY['procuracy', 'court'], 'provincial', ARRAY['very-serious', 'especially-serious'], '2017-01-01', '2026-07-01'),
    ('press-law-2025',
     'Press Law as amended, passed 10 December 2025, in force 1 July 2026: as the 2016 law, and heads of investigation agencies at '
     || 'provincial level or higher may also make the written request.',
     ARRAY['procuracy', 'court', 'police'], 'provincial', ARRAY['very-serious', 'especially-serious'], '2026-07-01', NULL);

-- The newsroom's decision has a clock like any duty, from a policy.
ALTER TABLE deadline_policies DROP CONSTRAINT deadline_policies_stage_check;
ALTER TABLE deadline_policies ADD CONSTRAINT deadline_policies_stage_check
    CHECK (stage IN ('deliver', 'acknowledge', 'resolve', 'extension', 'newsroom_answer', 'agency_answer', 'disclosure_decision'));
INSERT INTO deadline_policies (category_code, stage, amount, unit, max_extensions, ladder_step_working_days, legal_basis) VALUES
    (NULL, 'disclosure_decision', 5, 'working_days', 0, 2,
     'No statutory term: the newsroom answers a written disclosure request within 5 working days (tipwire default, set by the coordinator)');

CREATE TABLE disclosure_requests (
    id uuid PRIMARY KEY,
    source_handle text NOT NULL REFERENCES source_envelopes (handle),
    newsroom_code party_code NOT NULL REFERENCES newsrooms (code),
    agency_code party_code NOT NULL REFERENCES agencies (code),
    requested_by text NOT NULL,
    legal_basis_code text NOT NULL REFERENCES legal_bases (code),
    crime_class text NOT NULL CHECK (crime_class IN ('less-serious', 'serious', 'very-serious', 'especially-serious')),
    case_reference text NOT NULL CHECK (length(case_reference) BETWEEN 1 AND 200),
    dated date NOT NULL,
    -- The written request itself, stored like any document's bytes.
    written_request_sha256 bytea NOT NULL REFERENCES document_blobs (sha256),
    written_request_type text NOT NULL,
    state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'complied', 'refused', 'contested')),
    -- The clock, copied from the policy when the request is filed.
    started_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    reminder_percent int NOT NULL,
    step_working_days int NOT NULL,
    decision_reason text CHECK (length(decision_reason) <= 5000),
    decided_by text,
    decided_at timestamptz,
    CHECK ((state = 'open') = (decided_at IS NULL)),
    CHECK ((decided_at IS NULL) = (decided_by IS NULL) AND (decided_at IS NULL) = (decision_reason IS NULL))
);
CREATE INDEX disclosure_requests_by_newsroom ON disclosure_requests (newsroom_code, started_at DESC, id DESC);
CREATE INDEX disclosure_requests_by_agency ON disclosure_requests (agency_code, started_at DESC, id DESC);
