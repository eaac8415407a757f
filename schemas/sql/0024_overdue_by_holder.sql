-- The overdue board (docs/analytics.md#definitions): per holder, how many running clocks are past their
-- due time, and the oldest few. Keyed by holder and due time, so the count is an index-only scan and
-- each holder's oldest are its index's first entries, however many clocks a national deployment holds.
CREATE INDEX deadlines_running_by_holder ON deadlines (holder_kind, holder_code, due_at, id) WHERE state = 'running';
