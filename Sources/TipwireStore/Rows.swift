import Foundation
import Postgres
import TipwireCore

/// Rows written together by ingest and reassignment, inserted with one statement per table.
struct TaskRow: Sendable {
    var id: UUID
    var findingID: UUID
    var agency: PartyCode
    var routedBy: RoutingReason
    var previousTaskID: UUID?
    var assignedAt: Date

    /// Delivery is pipeline health, on the wall clock: the deliver policy is in hours, so no calendar applies.
    var deliverBy: Date { DeadlinePolicy.default(for: .deliver).due(from: assignedAt, calendar: WorkingCalendar()) }

    var view: TaskView {
        TaskView(
            id: id.lowercased, findingID: findingID.lowercased, agency: agency, state: "assigned", routedBy: routedBy,
            previousTaskID: previousTaskID?.lowercased, assignedAt: assignedAt, deliverBy: deliverBy, deliveredAt: nil)
    }
}

struct TaskEventRow: Sendable {
    var taskID: UUID
    var kind: String
    var actor: String
    var at: Date
    var detail: String
}

enum Inserts {
    /// Sealed envelopes under their handles (migration 0012): the one way one enters the database.
    static func sourceEnvelopes(_ rows: [(handle: SourceHandle, envelope: SourceEnvelope)]) -> PostgresQuery {
        .prepared(
            """
            INSERT INTO source_envelopes (handle, newsroom_code, key_id, aead, enc, ciphertext)
            SELECT * FROM unnest(\(rows.map(\.handle.rawValue))::text[], \(rows.map(\.envelope.newsroom.rawValue))::text[],
                \(rows.map(\.envelope.keyID.rawValue))::text[], \(rows.map(\.envelope.aead.rawValue))::text[],
                \(rows.map(\.envelope.encapsulatedKey))::bytea[], \(rows.map(\.envelope.ciphertext))::bytea[])
            """)
    }

    static func tasks(_ rows: [TaskRow]) -> PostgresQuery {
        .prepared(
            """
            INSERT INTO tasks (id, finding_id, agency_code, state, routed_by, previous_task_id, assigned_at, deliver_by, updated_at)
            SELECT id, finding_id, agency, 'assigned', routed_by, previous_task_id, assigned_at, deliver_by, assigned_at
            FROM unnest(\(rows.map(\.id))::uuid[], \(rows.map(\.findingID))::uuid[], \(rows.map(\.agency.rawValue))::text[],
                        \(rows.map(\.routedBy.rawValue))::text[], \(rows.map(\.previousTaskID))::uuid[], \(rows.map(\.assignedAt))::timestamptz[],
                        \(rows.map(\.deliverBy))::timestamptz[])
                 AS r(id, finding_id, agency, routed_by, previous_task_id, assigned_at, deliver_by)
            """)
    }

    static func taskEvents(_ rows: [TaskEventRow]) -> PostgresQuery {
        .prepared(
            """
            INSERT INTO task_events (task_id, kind, actor, at, detail)
            SELECT * FROM unnest(\(rows.map(\.taskID))::uuid[], \(rows.map(\.kind))::text[], \(rows.map(\.actor))::text[],
                                 \(rows.map(\.at))::timestamptz[], \(rows.map(\.detail))::jsonb[])
            """)
    }

    /// The statements that put `events` in the outbox and wake the relay (PostgreSQL delivers the NOTIFY at
    /// commit): the one way any transaction announces something to Kafka.
    static func outbox(_ events: [OutboundEvent]) -> [PostgresQuery] {
        [outboxRows(events), wakeRelay]
    }

    private static func outboxRows(_ events: [OutboundEvent]) -> PostgresQuery {
        .prepared(
            """
            INSERT INTO outbox (ce_id, ce_type, ce_subject, ce_time, topic, message_key, payload, delivers_task_id)
            SELECT * FROM unnest(\(events.map(\.id))::uuid[], \(events.map(\.type))::text[], \(events.map(\.subject))::text[],
                                 \(events.map(\.time))::timestamptz[], \(events.map(\.topic))::text[], \(events.map(\.key))::text[],
                                 \(events.map { String(decoding: $0.data, as: UTF8.self) })::text[], \(events.map(\.deliversTask))::uuid[])
            """)
    }

    private static let wakeRelay: PostgresQuery = .prepared("SELECT pg_notify('tipwire_outbox', '')")
}

extension OutboundEvent {
    static func taskAssigned(_ task: TaskRow, finding: FindingData, documents: [DocumentClaimCheck]) throws -> OutboundEvent {
        let data = TaskAssignedData(
            task: TaskReference(id: task.id, agency: task.agency, routedBy: task.routedBy), assignedAt: task.assignedAt, deliverBy: task.deliverBy,
            previousTaskID: task.previousTaskID, finding: finding, documents: documents)
        return OutboundEvent(
            type: EventType.taskAssigned, subject: "tasks/\(task.id.lowercased)", time: task.assignedAt,
            topic: TopicName.tasks(task.agency), key: finding.id, data: try TipwireJSON.encode(data), deliversTask: task.id)
    }

    static func findingReceived(_ finding: FindingData, documents: [DocumentClaimCheck], tasks: [TaskRow]) throws -> OutboundEvent {
        let data = FindingReceivedData(
            finding: finding, documents: documents, tasks: tasks.map { TaskReference(id: $0.id, agency: $0.agency, routedBy: $0.routedBy) })
        return OutboundEvent(
            type: EventType.findingReceived, subject: "findings/\(finding.id)", time: finding.receivedAt, topic: TopicName.findings,
            key: finding.id, data: try TipwireJSON.encode(data))
    }
}
