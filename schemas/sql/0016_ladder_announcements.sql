-- Disclosure requests and protection cases climb the escalation ladder while undecided: the deadline
-- engine announces each rung once, as it does a task's. `rungs_announced` counts the rungs of the running
-- clock already announced; `next_rung_at` is when the next one falls due (NULL when none is left, or the
-- request or case is settled), so the engine looks only at rows whose time has come.
ALTER TABLE disclosure_requests ADD COLUMN rungs_announced int NOT NULL DEFAULT 0, ADD COLUMN next_rung_at timestamptz;
ALTER TABLE protection_cases ADD COLUMN rungs_announced int NOT NULL DEFAULT 0, ADD COLUMN next_rung_at timestamptz;
CREATE INDEX disclosure_requests_next_rung ON disclosure_requests (next_rung_at) WHERE next_rung_at IS NOT NULL;
CREATE INDEX protection_cases_next_rung ON protection_cases (next_rung_at) WHERE next_rung_at IS NOT NULL;
