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

/// The relay's side of the outbox: unsent rows are read on the relay's own session (`WorkerSession`), and
/// deliveries are recorded on pooled connections, several rounds at once.
public struct OutboxStore: Sendable {
    public static let channel = "tipwire_outbox"
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// `markSent` on a pooled connection.
    public func markSent(_ deliveries: [OutboxDelivery], at time: Date) async throws {
        try await client.withConnection { try await Self.markSent(deliveries, at: time, on: $0) }
    }

    /// Unsent rows, oldest first, leaving out `excluding` (rows produced whose delivery is being recorded).
    public static func pending(limit: Int, excluding: [Int64] = [], on connection: PostgresConnection) async throws -> [OutboxMessage] {
        let rows = try await connection.query(pendingStatement(limit: limit, excluding: excluding))
        return try rows.map { row in
            let (id, ceID, type, subject, time, topic, key, payload, task) =
                try row.decode((Int64, UUID, String, String, Date, String, String, String, UUID?).self)
            return OutboxMessage(
                id: id,
                event: OutboundEvent(
                    id: ceID, type: type, subject: subject, time: time, topic: topic, key: key, data: Array(payload.utf8), deliversTask: task))
        }
    }

    /// `pending`'s statement (run by `tipwire-bench ingest`'s drain baseline too).
    public static func pendingStatement(limit: Int, excluding: [Int64] = []) -> PostgresQuery {
        .prepared(
            """
            SELECT id, ce_id, ce_type, ce_subject, ce_time, topic, message_key, payload, delivers_task_id
            FROM outbox WHERE id NOT IN (SELECT unnest(\(excluding)::bigint[])) ORDER BY id LIMIT \(limit)
            """)
    }

    /// Records deliveries (see `recordStatements`): the Kafka positions travel as three arrays.
    public static func markSent(_ deliveries: [OutboxDelivery], at time: Date, on connection: PostgresConnection) async throws {
        if deliveries.isEmpty { return }
        let clocks = deliveries.contains { $0.event.deliversTask != nil } ? try await acknowledgeClocks(deliveredAt: time, on: connection) : []
        let positions: PostgresQuery = """
            SELECT * FROM unnest(\(deliveries.map(\.id))::bigint[], \(deliveries.map { Int($0.partition) })::int[],
                                 \(deliveries.map(\.offset))::bigint[]) AS p(id, kafka_partition, kafka_offset)
            """
        _ = try await connection.pipeline(recordStatements(positions: positions, clocks: clocks, at: time))
    }

    /// The acknowledge clocks a delivery at `time` starts, one per category (rules and categories read now).
    public static func acknowledgeClocks(deliveredAt time: Date, on connection: PostgresConnection) async throws -> [AcknowledgeClock] {
        let results = try await connection.pipeline(clockRulesStatements)
        let rules = try DeadlineRules.decode(results.dropLast())
        let categories = try results[results.count - 1].decodeColumn(String.self)
        return DeadlineStore.acknowledgeClocks(deliveredAt: time, rules: rules, categories: categories).map {
            AcknowledgeClock(category: $0.category, clock: $0.clock, nextAt: $0.nextAt)
        }
    }

    /// What `acknowledgeClocks` reads, in one round trip: the policies, the calendar, the categories.
    public static let clockRulesStatements: [PostgresQuery] = (DeadlineRules.statements + ["SELECT code FROM categories"]).map { $0.prepared() }

    /// One category's acknowledge clock for tasks delivered now, and when its first rung falls due.
    public struct AcknowledgeClock: Sendable {
        public var category: String
        public var clock: DutyClock
        public var nextAt: Date?
    }

    /// The statements recording one round's deliveries; `positions` yields `(id, kafka_partition,
    /// kafka_offset)` for each delivered row. The rows leave the outbox for `outbox_deliveries` (which keeps
    /// them whole for the retention window, see `RetainedEvents.swift`), and each delivered task moves to
    /// `delivered` with its `delivered` event (once per task, however often the relay retried) and starts
    /// its acknowledge clock (day zero is the day of delivery). Everything but the Kafka positions is read
    /// from the deleted rows themselves, so a row another relay already recorded is skipped. One statement,
    /// plus a wake-up for the deadline engine when clocks may start (`clocks` is empty otherwise).
    /// `tipwire-bench ingest` runs these with pgbench as the drain's baseline.
    public static func recordStatements(positions: PostgresQuery, clocks: [AcknowledgeClock], at time: Date) -> [PostgresQuery] {
        let record: PostgresQuery = """
            WITH positions AS (\(fragment: positions)
            ), sent AS (
                DELETE FROM outbox o USING positions p WHERE o.id = p.id
                RETURNING o.id, o.ce_id, o.ce_type, o.ce_subject, o.topic, o.message_key, o.payload, o.ce_time, o.delivers_task_id,
                          p.kafka_partition, p.kafka_offset
            ), recorded AS (
                INSERT INTO outbox_deliveries (ce_id, ce_type, topic, ce_time, sent_at, kafka_partition, kafka_offset, outbox_id, ce_subject,
                                               message_key, payload)
                SELECT ce_id, ce_type, topic, ce_time, \(time), kafka_partition, kafka_offset, id, ce_subject, message_key, payload FROM sent
                ON CONFLICT (ce_id) DO NOTHING
            ), delivered_tasks AS (
                UPDATE tasks t SET state = CASE WHEN t.state = 'assigned' THEN 'delivered' ELSE t.state END,
                                   delivered_at = \(time), updated_at = \(time)
                FROM sent s WHERE t.id = s.delivers_task_id AND t.delivered_at IS NULL
                RETURNING t.id, t.agency_code, t.finding_id, t.state
            ), clocks AS (
                SELECT * FROM unnest(\(clocks.map(\.category))::text[], \(clocks.map(\.clock.dueAt))::timestamptz[], \(clocks.map(\.nextAt))::timestamptz[],
                                     \(clocks.map(\.clock.reminderPercent))::int[], \(clocks.map(\.clock.stepWorkingDays))::int[])
                     AS c(category, due_at, next_at, reminder_percent, step_working_days)
            ), acknowledge_clocks AS (
                -- Only for tasks that were waiting: one acknowledged before its delivery has no such duty left.
                INSERT INTO deadlines (task_id, finding_id, agency_code, newsroom_code, category_code, stage, holder_kind, holder_code, started_at,
                                       due_at, reminder_percent, step_working_days)
                SELECT d.id, d.finding_id, d.agency_code, f.newsroom_code, f.category_code, 'acknowledge', 'agency', d.agency_code, \(time),
                       c.due_at, c.reminder_percent, c.step_working_days
                FROM delivered_tasks d JOIN findings f ON f.id = d.finding_id JOIN clocks c ON c.category = f.category_code
                WHERE d.state = 'delivered'
                RETURNING id, category_code
            ), acknowledge_timers AS (
                INSERT INTO deadline_timers (deadline_id, next_at)
                SELECT a.id, c.next_at FROM acknowledge_clocks a JOIN clocks c ON c.category = a.category_code
            )
            INSERT INTO task_events (task_id, kind, actor, at, detail)
            SELECT delivers_task_id, 'delivered', 'relay', \(time), jsonb_build_object('partition', kafka_partition, 'offset', kafka_offset)
            FROM sent WHERE delivers_task_id IS NOT NULL
            ON CONFLICT (task_id) WHERE kind = 'delivered' DO NOTHING
            """
        return clocks.isEmpty ? [record.prepared()] : [record.prepared(), DeadlineStore.wakeEngine]
    }

    /// Rows not yet sent (for health and metrics).
    public static func backlog(on connection: PostgresConnection) async throws -> Int {
        try await connection.query("SELECT count(*) FROM outbox")[0].decode(column: 0, as: Int.self)
    }
}

extension WorkerSession {
    /// Unsent outbox rows, read on the relay's own session (see `OutboxStore.pending`).
    public func pendingOutbox(limit: Int, excluding: [Int64]) async throws -> [OutboxMessage] {
        try await OutboxStore.pending(limit: limit, excluding: excluding, on: connection)
    }
}
