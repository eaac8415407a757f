-- Named officers of each newsroom and agency (issue 32, docs/notifications.md): the people reminders,
-- overdue notices and escalations reach. A person removed keeps their row (`removed_at`), so what was
-- sent to them stays attributable. An admin manages them; writes run as the system.
CREATE TABLE people (
    id uuid PRIMARY KEY,
    party_kind text NOT NULL CHECK (party_kind IN ('agency', 'newsroom')),
    party_code party_code NOT NULL,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200 AND name !~ '[[:cntrl:]]'),
    email text NOT NULL CHECK (length(email) BETWEEN 3 AND 254 AND email = lower(email) AND email ~ '^[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:]]+$'),
    webhook_url text CHECK (webhook_url IS NULL OR (length(webhook_url) <= 2000 AND webhook_url ~ '^https?://')),
    role text NOT NULL CHECK (role IN ('officer', 'head', 'deputy-head', 'duty-officer')),
    language text NOT NULL CHECK (language IN ('vi', 'en')),
    added_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    removed_at timestamptz
);
-- One person per address in a party, among those not removed.
CREATE UNIQUE INDEX people_one_per_address ON people (party_kind, party_code, email) WHERE removed_at IS NULL;
CREATE INDEX people_by_party ON people (party_kind, party_code, role) WHERE removed_at IS NULL;

-- The second wall (ADR 0007): the system and admins read everyone; a party's own officers read their
-- party's people; only the system writes.
CREATE POLICY people_read ON people FOR SELECT USING (
    tipwire_role() IN ('system', 'admin', 'coordinator')
    OR (tipwire_role() = 'agency' AND party_kind = 'agency' AND party_code::text = tipwire_agency())
    OR (tipwire_role() = 'liaison' AND party_kind = 'newsroom' AND party_code::text = tipwire_newsroom()));
CREATE POLICY people_insert ON people FOR INSERT WITH CHECK (tipwire_role() = 'system');
CREATE POLICY people_update ON people FOR UPDATE USING (tipwire_role() = 'system');
ALTER TABLE people ENABLE ROW LEVEL SECURITY;
