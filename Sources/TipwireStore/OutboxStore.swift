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

    /// Unsent rows, oldest first, leaving out `excluding` (rows produced whose delivery is being recorded).
    public static func pending(limit: Int, excluding: [Int64] = [], on connection: PostgresConnection) async throws -> [OutboxMessage] {
        let rows = try await connection.query(
            """
            SELECT id, ce_id, ce_type, ce_subject, ce_time, topic, message_key, payload, delivers_task_id
            FROM outbox WHERE id NOT IN (SELECT unnest(\(excluding)::bigint[])) ORDER BY id LIMIT \(limit)
            """)
        return try rows.map { row in
            let (id, ceID, type, subject, time, topic, key, payload, task) =
                try row.decode((Int64, UUID, String, String, Date, String, String, String, UUID?).self)
            return OutboxMessage(
                id: id, event: OutboundEvent(id: ceID, type: type, subject: subject, time: time, topic: topic, key: key, data: Array(payload.utf8), deliversTask: task))
        }
    }

    /// Records deliveries in one statement: the rows leave the outbox for `outbox_deliveries`, and each
    /// delivered task moves to `delivered` with its `delivered` event (once per task, however often the
    /// relay retried). Everything but the Kafka positions is read from the deleted rows themselves, so a
    /// row another relay already recorded is skipped, and only three integer arrays travel.
    public static func markSent(_ deliveries: [OutboxDelivery], at time: Date, on connection: PostgresConnection) async throws {
        if deliveries.isEmpty { return }
        try await connection.execute(
            """
            WITH positions AS (
                SELECT * FROM unnest(\(deliveries.map(\.id))::bigint[], \(deliveries.map { Int($0.partition) })::int[],
                                     \(deliveries.map(\.offset))::bigint[]) AS p(id, kafka_partition, kafka_offset)
            ), sent AS (
                DELETE FROM outbox o USING positions p WHERE o.id = p.id
                RETURNING o.ce_id, o.ce_type, o.topic, o.ce_time, o.delivers_task_id, p.kafka_partition, p.kafka_offset
            ), recorded AS (
                INSERT INTO outbox_deliveries (ce_id, ce_type, topic, ce_time, sent_at, kafka_partition, kafka_offset)
                SELECT ce_id, ce_type, topic, ce_time, \(time), kafka_partition, kafka_offset FROM sent
                ON CONFLICT (ce_id) DO NOTHING
            ), delivered_tasks AS (
                UPDATE tasks t SET state = CASE WHEN t.state = 'assigned' THEN 'delivered' ELSE t.state END,
                                   delivered_at = \(time), updated_at = \(time)
                FROM sent s WHERE t.id = s.delivers_task_id AND t.delivered_at IS NULL
            )
            INSERT INTO task_events (task_id, kind, actor, at, detail)
            SELECT delivers_task_id, 'delivered', 'relay', \(time), jsonb_build_object('partition', kafka_partition, 'offset', kafka_offset)
            FROM sent WHERE delivers_task_id IS NOT NULL
            ON CONFLICT (task_id) WHERE kind = 'delivered' DO NOTHING
            """)
    }

    /// Rows not yet sent (for health and metrics).
    public static func backlog(on connection: PostgresConnection) async throws -> Int {
        try await connection.query("SELECT count(*) FROM outbox")[0].decode(column: 0, as: Int.self)
    }
}
