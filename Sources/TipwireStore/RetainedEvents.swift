import Foundation
import Postgres
import TipwireCore

/// The last offset delivered to one partition.
public struct DeliveredPosition: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var lastOffset: Int64
}

/// A delivered event kept for the retention window, as the relay can produce it again.
public struct RetainedEvent: Sendable {
    /// The outbox row it came from: the order it was first produced in.
    public var outboxID: Int64
    public var event: OutboundEvent
}

/// Which retained events to produce again: those delivered at or after `since` (every one when nil), to
/// `topics` (every topic when nil).
public struct RetainedSelection: Sendable, Hashable {
    public var since: Date?
    public var topics: [String]?

    public init(since: Date? = nil, topics: [String]? = nil) {
        self.since = since
        self.topics = topics
    }

    public static let everything = RetainedSelection()
}

/// Delivered events kept whole for the retention window (migration 0019, docs/adr/0008-retained-events.md):
/// what the relay produces again when a Kafka cluster lacks them, and `tipwire relay replay` by hand.
extension OutboxStore {
    /// The cluster the relay last delivered to, if it ever did since this was recorded.
    public func recordedCluster() async throws -> String? {
        try await client.query("SELECT cluster_id FROM kafka_cluster").firstRow?.decode(column: 0, as: String.self)
    }

    public func recordCluster(_ clusterID: String, at time: Date) async throws {
        try await client.execute(
            """
            INSERT INTO kafka_cluster (cluster_id, recorded_at) VALUES (\(clusterID), \(time))
            ON CONFLICT (singleton) DO UPDATE SET cluster_id = excluded.cluster_id, recorded_at = excluded.recorded_at
            """)
    }

    /// Every partition that holds a retained event, with the last offset delivered to it: one index probe per
    /// partition (a skip scan over `outbox_deliveries_positions`), however many events were delivered.
    public func deliveredPositions() async throws -> [DeliveredPosition] {
        let rows = try await client.query(
            """
            WITH RECURSIVE partitions AS (
                (SELECT topic, kafka_partition FROM outbox_deliveries ORDER BY topic, kafka_partition LIMIT 1)
                UNION ALL
                SELECT n.topic, n.kafka_partition FROM partitions p CROSS JOIN LATERAL (
                    SELECT d.topic, d.kafka_partition FROM outbox_deliveries d
                    WHERE (d.topic, d.kafka_partition) > (p.topic, p.kafka_partition)
                    ORDER BY d.topic, d.kafka_partition LIMIT 1) n
            )
            SELECT p.topic, p.kafka_partition, last.kafka_offset
            FROM partitions p CROSS JOIN LATERAL (
                SELECT d.kafka_offset FROM outbox_deliveries d
                WHERE d.topic = p.topic AND d.kafka_partition = p.kafka_partition AND d.payload IS NOT NULL
                ORDER BY d.kafka_offset DESC LIMIT 1) last
            ORDER BY p.topic, p.kafka_partition
            """)
        return try rows.decode((String, Int32, Int64).self).map { DeliveredPosition(topic: $0.0, partition: $0.1, lastOffset: $0.2) }
    }

    /// The selection's retained events after the outbox row `after`, in the order they were first produced.
    public func retained(_ selection: RetainedSelection, after: Int64, limit: Int) async throws -> [RetainedEvent] {
        let rows = try await client.query(
            """
            SELECT outbox_id, ce_id, ce_type, ce_subject, ce_time, topic, message_key, payload
            FROM outbox_deliveries
            WHERE outbox_id > \(after) AND payload IS NOT NULL
              AND (\(selection.since)::timestamptz IS NULL OR sent_at >= \(selection.since))
              AND (\(selection.topics)::text[] IS NULL OR topic = ANY(\(selection.topics)))
            ORDER BY outbox_id LIMIT \(limit)
            """)
        return try rows.map { row in
            let (outboxID, id, type, subject, time, topic, key, payload) = try row.decode(
                (Int64, UUID, String, String, Date, String, String, String).self)
            return RetainedEvent(
                outboxID: outboxID,
                event: OutboundEvent(id: id, type: type, subject: subject, time: time, topic: topic, key: key, data: Array(payload.utf8)))
        }
    }

    /// How many of the selection's delivery records can be produced again, and how many cannot (sent before
    /// events were retained).
    public func retainedCounts(_ selection: RetainedSelection) async throws -> (retained: Int, notRetained: Int) {
        try await client.query(
            """
            SELECT count(*) FILTER (WHERE payload IS NOT NULL)::int, count(*) FILTER (WHERE payload IS NULL)::int
            FROM outbox_deliveries
            WHERE (\(selection.since)::timestamptz IS NULL OR sent_at >= \(selection.since))
              AND (\(selection.topics)::text[] IS NULL OR topic = ANY(\(selection.topics)))
            """
        )[0].decode((Int, Int).self)
    }

    /// Records where events produced again landed (their first `sent_at` stays: the retention window runs
    /// from the first delivery).
    public func recordPositions(_ deliveries: [OutboxDelivery]) async throws {
        if deliveries.isEmpty { return }
        try await client.execute(
            """
            UPDATE outbox_deliveries d SET kafka_partition = p.kafka_partition, kafka_offset = p.kafka_offset
            FROM unnest(\(deliveries.map(\.event.id))::uuid[], \(deliveries.map(\.partition))::int[], \(deliveries.map(\.offset))::bigint[])
                 AS p(ce_id, kafka_partition, kafka_offset)
            WHERE d.ce_id = p.ce_id
            """)
    }

    /// Removes up to `limit` delivery records sent before `cutoff`, oldest first; returns how many.
    public func forgetDeliveries(sentBefore cutoff: Date, limit: Int = 10_000) async throws -> Int {
        try await client.query(
            """
            WITH gone AS (
                DELETE FROM outbox_deliveries WHERE ctid IN (SELECT ctid FROM outbox_deliveries WHERE sent_at < \(cutoff) LIMIT \(limit))
                RETURNING 1
            )
            SELECT count(*)::int FROM gone
            """
        )[0].decode(column: 0, as: Int.self)
    }
}
