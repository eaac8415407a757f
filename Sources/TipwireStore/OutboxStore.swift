import Foundation
import Postgres
import TipwireCore

/// An outbox row ready to produce.
public struct OutboxMessage: Sendable {
    public var id: Int64
    public var event: OutboundEvent
}

/// Where an outbox row landed in Kafka.
public struct OutboxDelivery: Sendable {
    public var id: Int64
    public var event: OutboundEvent
    public var partition: Int32
    public var offset: Int64

    public init(id: Int64, event: OutboundEvent, partition: Int32, offset: Int64) {
        self.id = id
        self.event = event
        self.partition = partition
        self.offset = offset
    }
}

/// The relay's side of the outbox. Every call runs on the connection that holds the relay lock.
public enum OutboxStore {
    public static let channel = "tipwire_outbox"
    /// First key of the active relay's advisory lock ("twrl"); the second is the schema's hash, so
    /// installations in different schemas of one database (and parallel tests) do not block each other.
    public static let relayLockClass: Int32 = 0x7477_726C

    /// Takes the relay lock for this session; false when another relay holds it.
    public static func tryLock(on connection: PostgresConnection) async throws -> Bool {
        try await connection.query("SELECT pg_try_advisory_lock(\(relayLockClass), hashtext(current_schema()))")[0].decode(column: 0, as: Bool.self)
    }

    /// Sessions holding the relay lock of the current schema: 1 while a relay is active, 0 otherwise.
    public static func lockHolders(on client: PostgresClient) async throws -> Int {
        try await client.query(
            """
            SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = \(relayLockClass)::oid
              AND objid = hashtext(current_schema())::oid AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """)[0].decode(column: 0, as: Int.self)
    }

    /// Unsent rows, oldest first.
    public static func pending(limit: Int, on connection: PostgresConnection) async throws -> [OutboxMessage] {
        let rows = try await connection.query(
            """
            SELECT id, ce_id, ce_type, ce_subject, ce_time, topic, message_key, payload, delivers_task_id
            FROM outbox ORDER BY id LIMIT \(limit)
            """)
        return try rows.map { row in
            let (id, ceID, type, subject, time, topic, key, payload, task) =
                try row.decode((Int64, UUID, String, String, Date, String, String, [UInt8], UUID?).self)
            return OutboxMessage(
                id: id, event: OutboundEvent(id: ceID, type: type, subject: subject, time: time, topic: topic, key: key, data: payload, deliversTask: task))
        }
    }

    /// Records deliveries in one transaction: the rows leave the outbox for `outbox_deliveries`, and each
    /// delivered task gets its `delivered` event (at most once per task, however often the relay retried).
    public static func markSent(_ deliveries: [OutboxDelivery], at time: Date, on connection: PostgresConnection) async throws {
        if deliveries.isEmpty { return }
        let tasks = deliveries.filter { $0.event.deliversTask != nil }
        try await connection.withTransaction { connection in
            _ = try await connection.pipeline([
                "DELETE FROM outbox WHERE id = ANY(\(deliveries.map(\.id))::bigint[])",
                """
                INSERT INTO outbox_deliveries (ce_id, ce_type, topic, ce_time, sent_at, kafka_partition, kafka_offset)
                SELECT id, type, topic, ce_time, \(time), kafka_partition, kafka_offset
                FROM unnest(\(deliveries.map(\.event.id))::uuid[], \(deliveries.map(\.event.type))::text[], \(deliveries.map(\.event.topic))::text[],
                            \(deliveries.map(\.event.time))::timestamptz[], \(deliveries.map { Int($0.partition) })::int[], \(deliveries.map(\.offset))::bigint[])
                     AS r(id, type, topic, ce_time, kafka_partition, kafka_offset)
                ON CONFLICT (ce_id) DO NOTHING
                """,
                """
                UPDATE tasks t SET state = CASE WHEN t.state = 'assigned' THEN 'delivered' ELSE t.state END,
                                   delivered_at = coalesce(t.delivered_at, \(time)), updated_at = \(time)
                FROM unnest(\(tasks.map(\.event.deliversTask))::uuid[]) AS r(id) WHERE t.id = r.id AND t.delivered_at IS NULL
                """,
                """
                INSERT INTO task_events (task_id, kind, actor, at, detail)
                SELECT r.id, 'delivered', 'relay', \(time), jsonb_build_object('partition', r.partition, 'offset', r.kafka_offset)
                FROM unnest(\(tasks.map(\.event.deliversTask))::uuid[], \(tasks.map { Int($0.partition) })::int[], \(tasks.map(\.offset))::bigint[])
                     AS r(id, partition, kafka_offset)
                ON CONFLICT (task_id) WHERE kind = 'delivered' DO NOTHING
                """,
            ])
        }
    }

    /// Rows not yet sent (for health and metrics).
    public static func backlog(on connection: PostgresConnection) async throws -> Int {
        try await connection.query("SELECT count(*) FROM outbox")[0].decode(column: 0, as: Int.self)
    }
}
