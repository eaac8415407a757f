-- The overdue board (docs/analytics.md#definitions): per holder, how many running clocks are past their
-- due time, and the oldest few. Keyed by holder and due time, so the count is an index-only scan and
-- each holder's oldest are its index's first entries, however many clocks a national deployment holds.
CREATE INDEX deadlines_running_by_holder ON deadlines (holder_kind, holder_code, due_at, id) WHERE state = 'running';

-- Open escalations (overdue notices and escalation rungs not yet acknowledged): the overview counts them
-- and the escalations page lists them, from a few among hundreds of thousands of rungs.
CREATE INDEX deadline_rungs_unacknowledged ON deadline_rungs (deadline_id) WHERE kind <> 'reminder' AND acknowledged_at IS NULL;
