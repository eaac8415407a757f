-- Nothing lost when a broker forgets (issue 15, docs/adr/0008-retained-events.md). Each delivery record now
-- keeps the whole event (subject, key and payload; the headers are made from the other columns) and the
-- outbox row it came from, for the retention window. When the relay finds a Kafka cluster that is not the
-- one it delivered to, or a partition that is shorter than what was delivered to it, it produces the
-- retained events again, in their order, before anything new. Records sent before this migration have no
-- payload and cannot be produced again.
ALTER TABLE outbox_deliveries
    ADD COLUMN outbox_id bigint,
    ADD COLUMN ce_subject text,
    ADD COLUMN message_key text,
    ADD COLUMN payload text;

-- The last offset delivered to each partition: a few index probes per check.
CREATE INDEX outbox_deliveries_positions ON outbox_deliveries (topic, kafka_partition, kafka_offset);
-- A replay reads retained events in the order they were first produced, a page at a time.
CREATE UNIQUE INDEX outbox_deliveries_by_outbox_id ON outbox_deliveries (outbox_id);
-- Records leave after the retention window, oldest first; rows arrive in time order, so a BRIN index serves.
CREATE INDEX outbox_deliveries_by_sent_at ON outbox_deliveries USING brin (sent_at);

-- The Kafka cluster the relay delivers to, as its cluster id: another id means the events delivered so
-- far are not there.
CREATE TABLE kafka_cluster (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    cluster_id text NOT NULL CHECK (length(cluster_id) BETWEEN 1 AND 200),
    recorded_at timestamptz NOT NULL
);
