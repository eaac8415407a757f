-- The outbox's topic check said '^[a-zA-Z0-9._-]{1,249}$': PostgreSQL's regex engine expands the bounded
-- repetition, and the check cost about 32 µs per row (a third of a second per 10,000 events). The same
-- rule, written as a plain class and a length, costs about 1 µs.
ALTER TABLE outbox DROP CONSTRAINT outbox_topic_check,
    ADD CONSTRAINT outbox_topic_check CHECK (topic ~ '^[a-zA-Z0-9._-]+$' AND length(topic) <= 249);
