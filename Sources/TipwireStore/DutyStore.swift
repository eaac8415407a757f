import Foundation
import Postgres
import TipwireCore

/// Where a task's own duty stands: its agency's open clock (acknowledge or resolve), in working days.
public struct DueView: Sendable, Hashable, Codable {
    public var stage: ClockStage
    public var dueAt: Date
    /// The clock stands still while the newsroom is asked for information.
    public var paused: Bool
    public var remainingWorkingDays: Int
    public var overdueByWorkingDays: Int

    enum CodingKeys: String, CodingKey {
        case stage, paused
        case dueAt = "due_at", remainingWorkingDays = "remaining_working_days", overdueByWorkingDays = "overdue_by_working_days"
    }

    init(stage: ClockStage, clock: DutyClock, paused: Bool, now: Date, calendar: WorkingCalendar) {
        self.stage = stage
        dueAt = clock.dueAt
        self.paused = paused
        // A paused clock's time stands where it stopped; shown as if it were that instant.
        (remainingWorkingDays, overdueByWorkingDays) = clock.status(at: now, calendar: calendar)
    }
}

/// One overdue duty on the coordinator's board.
public struct OverdueItem: Sendable, Codable {
    public var taskID: String
    public var findingID: String
    public var findingTitle: String
    public var stage: ClockStage
    public var requestID: String?
    public var dueAt: Date
    public var overdueByWorkingDays: Int
    /// The highest rung raised so far (`overdue`, `escalation`), and to whom.
    public var lastRung: RungKind?
    public var lastAudience: String?

    enum CodingKeys: String, CodingKey {
        case stage
        case taskID = "task_id", findingID = "finding_id", findingTitle = "finding_title", requestID = "request_id", dueAt = "due_at"
        case overdueByWorkingDays = "overdue_by_working_days", lastRung = "last_rung", lastAudience = "last_audience"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(taskID, forKey: .taskID)
        try container.encode(findingID, forKey: .findingID)
        try container.encode(findingTitle, forKey: .findingTitle)
        try container.encode(stage, forKey: .stage)
        try container.encode(requestID, forKey: .requestID)
        try container.encode(dueAt, forKey: .dueAt)
        try container.encode(overdueByWorkingDays, forKey: .overdueByWorkingDays)
        try container.encode(lastRung, forKey: .lastRung)
        try container.encode(lastAudience, forKey: .lastAudience)
    }
}

/// The overdue duties of one holder, oldest first.
public struct OverdueGroup: Sendable, Codable {
    public var holder: DeadlineEventData.Holder
    /// All of the holder's overdue duties; `items` shows the oldest `limit`.
    public var count: Int
    public var oldestDueAt: Date
    public var items: [OverdueItem]

    enum CodingKeys: String, CodingKey {
        case holder, count, items
        case oldestDueAt = "oldest_due_at"
    }
}

public struct OverdueBoard: Sendable, Codable {
    public var asOf: Date
    public var groups: [OverdueGroup]

    enum CodingKeys: String, CodingKey {
        case groups
        case asOf = "as_of"
    }
}

/// An overdue notice or escalation raised by the engine, with the coordinator's acknowledgement.
public struct EscalationView: Sendable, Codable {
    public var id: String
    public var kind: RungKind
    public var rung: Int
    public var audience: String
    public var stage: ClockStage
    public var holder: DeadlineEventData.Holder
    public var taskID: String
    public var findingID: String
    public var findingTitle: String
    public var requestID: String?
    public var dueAt: Date
    public var rungAt: Date
    public var raisedAt: Date
    /// `running`, `paused`, `met` or `cancelled`: whether the duty is still undone.
    public var dutyState: String
    public var acknowledgedAt: Date?
    public var acknowledgedBy: String?
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, rung, audience, stage, holder, note
        case taskID = "task_id", findingID = "finding_id", findingTitle = "finding_title", requestID = "request_id", dueAt = "due_at", rungAt =
            "rung_at"
        case raisedAt = "raised_at", dutyState = "duty_state", acknowledgedAt = "acknowledged_at", acknowledgedBy = "acknowledged_by"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(rung, forKey: .rung)
        try container.encode(audience, forKey: .audience)
        try container.encode(stage, forKey: .stage)
        try container.encode(holder, forKey: .holder)
        try container.encode(taskID, forKey: .taskID)
        try container.encode(findingID, forKey: .findingID)
        try container.encode(findingTitle, forKey: .findingTitle)
        try container.encode(requestID, forKey: .requestID)
        try container.encode(dueAt, forKey: .dueAt)
        try container.encode(rungAt, forKey: .rungAt)
        try container.encode(raisedAt, forKey: .raisedAt)
        try container.encode(dutyState, forKey: .dutyState)
        try container.encode(acknowledgedAt, forKey: .acknowledgedAt)
        try container.encode(acknowledgedBy, forKey: .acknowledgedBy)
        try container.encode(note, forKey: .note)
    }
}

/// Filters for `GET /v1/escalations`.
public struct EscalationFilter: Sendable {
    public var acknowledged: Bool?
    public var kind: RungKind?
    public var after: PageCursor?
    public var limit: Int

    public init(acknowledged: Bool? = nil, kind: RungKind? = nil, after: PageCursor? = nil, limit: Int = 20) {
        self.acknowledged = acknowledged
        self.kind = kind
        self.after = after
        self.limit = limit
    }
}

public enum EscalationAcknowledgement: Sendable {
    case acknowledged(EscalationView)
    case notFound
    case alreadyAcknowledged(by: String, at: Date)
}

/// What the coordinator watches: duties past due, and the escalations raised on them.
public struct DutyStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// Whether the duty clock `d` is overdue at `now`: running past its due time. A paused clock never is,
    /// whatever its due time: it waits on the other side (an information request's answer), whose own
    /// clock is the late one, under that holder. The one definition the board, the overview and
    /// `/metrics` count by.
    static func isOverdue(at now: Date) -> PostgresQuery {
        "d.state = 'running' AND d.due_at < \(now)"
    }

    /// The overdue board's SQL (`tipwire-bench dashboard` runs it with pgbench too): each holder's count
    /// and oldest due time, then its `perGroup` oldest clocks, both read from `deadlines_running_by_holder`
    /// (migration 0024) rather than by sorting every overdue clock.
    public static func overdueStatement(at now: Date, holder: PartyCode?, perGroup: Int) -> PostgresQuery {
        """
        WITH holders AS (
            SELECT d.holder_kind, d.holder_code, count(*)::int AS total, min(d.due_at) AS oldest
            FROM deadlines d
            WHERE \(fragment: Self.isOverdue(at: now)) AND (\(holder?.rawValue)::text IS NULL OR d.holder_code = \(holder?.rawValue))
            GROUP BY d.holder_kind, d.holder_code
        )
        SELECT h.holder_kind, h.holder_code, h.total, o.task_id, o.finding_id, f.title, o.stage, o.request_id, o.started_at, o.due_at,
               o.reminder_percent, o.step_working_days, last.kind, last.audience
        FROM holders h
        CROSS JOIN LATERAL (
            SELECT d.* FROM deadlines d
            WHERE d.holder_kind = h.holder_kind AND d.holder_code = h.holder_code AND \(fragment: Self.isOverdue(at: now))
            ORDER BY d.due_at, d.id LIMIT \(perGroup)
        ) o
        JOIN findings f ON f.id = o.finding_id
        LEFT JOIN LATERAL (SELECT r.kind, r.audience FROM deadline_rungs r WHERE r.deadline_id = o.id ORDER BY r.rung DESC LIMIT 1) last ON true
        ORDER BY h.oldest, h.holder_kind, h.holder_code, o.due_at, o.id
        """
    }

    /// Every open duty past its due time at `now`, grouped by holder (the group with the oldest first),
    /// at most `perGroup` items each. `holder` narrows it to one agency's or newsroom's code.
    public func overdue(at now: Date, holder: PartyCode? = nil, perGroup: Int = 20) async throws -> OverdueBoard {
        try await client.withConnection { connection in
            let calendar = try await CalendarStore.load(on: connection)
            let rows = try await connection.query(Self.overdueStatement(at: now, holder: holder, perGroup: perGroup))
            var groups: [OverdueGroup] = []
            for row in rows {
                let (kind, holderCode, total, task, finding, title, stage, request, started, due, percent, step, lastKind, lastAudience) =
                    try row.decode((String, String, Int, UUID, UUID, String, String, UUID?, Date, Date, Int, Int, String?, String?).self)
                let clock = DutyClock(startedAt: started, dueAt: due, reminderPercent: percent, stepWorkingDays: step)
                let item = OverdueItem(
                    taskID: task.lowercased, findingID: finding.lowercased, findingTitle: title, stage: ClockStage(rawValue: stage) ?? .resolve,
                    requestID: request?.lowercased, dueAt: due, overdueByWorkingDays: clock.status(at: now, calendar: calendar).overdueByWorkingDays,
                    lastRung: lastKind.flatMap(RungKind.init), lastAudience: lastAudience)
                let holder = DeadlineEventData.Holder(kind: kind, code: try code(holderCode))
                if groups.last?.holder == holder {
                    groups[groups.count - 1].items.append(item)
                } else {
                    groups.append(OverdueGroup(holder: holder, count: total, oldestDueAt: due, items: [item]))
                }
            }
            return OverdueBoard(asOf: now, groups: groups)
        }
    }

    static let escalationColumns = """
        r.id, r.kind, r.rung, r.audience, d.stage, d.holder_kind, d.holder_code, d.task_id, d.finding_id, f.title, d.request_id, d.due_at, r.rung_at,
        r.raised_at, d.state, r.acknowledged_at, r.acknowledged_by, r.note
        FROM deadline_rungs r JOIN deadlines d ON d.id = r.deadline_id JOIN findings f ON f.id = d.finding_id
        """

    /// Overdue notices and escalations, newest first: all for the coordinator, a holder's own for an
    /// agency or a newsroom.
    public func escalations(_ filter: EscalationFilter, for actor: TaskActor) async throws -> Page<EscalationView> {
        let limit = min(max(filter.limit, 1), 100)
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.escalationColumns)
            WHERE \(fragment: Self.escalationsMatching(filter, for: actor))
              AND (\(filter.after?.time)::timestamptz IS NULL OR (r.raised_at, r.id) < (\(filter.after?.time), \(filter.after?.id)))
            ORDER BY r.raised_at DESC, r.id DESC LIMIT \(limit + 1)
            """)
        return Page(rows: try rows.map(Self.escalation), limit: limit) { ($0.raisedAt, $0.id) }
    }

    /// How many escalations `filter` matches in all, for `actor` (the list shows them a page at a time).
    public func escalationCount(_ filter: EscalationFilter, for actor: TaskActor) async throws -> Int {
        try await client.query(
            """
            SELECT count(*)::int FROM deadline_rungs r WHERE \(fragment: Self.escalationsMatching(filter, for: actor))
            """
        )[0].decode(column: 0, as: Int.self)
    }

    /// The rungs (`r`) a filter selects, but for its cursor. The conditions are written out rather than
    /// guarded by parameters, so the planner sees the ones `deadline_rungs_unacknowledged` (migration 0024)
    /// covers, and a coordinator's count reads that index alone.
    static func escalationsMatching(_ filter: EscalationFilter, for actor: TaskActor) -> PostgresQuery {
        let scope = RequestStore.scope(actor)
        var conditions: [PostgresQuery] = ["r.kind <> 'reminder'"]
        for (kind, code) in [("agency", scope.agency), ("newsroom", scope.newsroom)] {
            guard let code else { continue }
            conditions.append(
                "EXISTS (SELECT 1 FROM deadlines h WHERE h.id = r.deadline_id AND h.holder_kind = \(kind) AND h.holder_code = \(code))")
        }
        switch filter.acknowledged {
        case .some(true): conditions.append("r.acknowledged_at IS NOT NULL")
        case .some(false): conditions.append("r.acknowledged_at IS NULL")
        case .none: break
        }
        if let kind = filter.kind { conditions.append("r.kind = \(kind.rawValue)") }
        return conditions.dropFirst().reduce(conditions[0]) { "\(fragment: $0) AND \(fragment: $1)" }
    }

    /// The coordinator acknowledges an escalation with a note; once only. `at` is now but for `tipwire demo history`.
    public func acknowledge(
        _ id: UUID, note: String, by actorName: String, idempotency: Idempotency<EscalationAcknowledgement>, at time: Date = Date()
    ) async throws -> Idempotent<EscalationAcknowledgement> {
        try await client.withTransaction(idempotency) { connection in
            let current = try await connection.query(
                "SELECT acknowledged_by, acknowledged_at FROM deadline_rungs WHERE id = \(id) AND kind <> 'reminder' FOR UPDATE")
            guard let row = current.firstRow else { return .notFound }
            if let by = try row.decode(column: 0, as: String?.self), let at = try row.decode(column: 1, as: Date?.self) {
                return .alreadyAcknowledged(by: by, at: at)
            }
            try await connection.execute(
                "UPDATE deadline_rungs SET acknowledged_at = \(time), acknowledged_by = \(actorName), note = \(note) WHERE id = \(id)")
            guard let view = try await connection.query("SELECT \(unescaped: Self.escalationColumns) WHERE r.id = \(id)").firstRow else {
                return .notFound
            }
            return .acknowledged(try Self.escalation(view))
        }
    }

    static func escalation(_ row: PostgresRow) throws -> EscalationView {
        let (
            id, kind, rung, audience, stage, holderKind, holderCode, task, finding, title, request, due, rungAt, raisedAt, dutyState, acknowledgedAt,
            acknowledgedBy, note
        ) =
            try row.decode(
                (UUID, String, Int, String, String, String, String, UUID, UUID, String, UUID?, Date, Date, Date, String, Date?, String?, String?).self
            )
        return EscalationView(
            id: id.lowercased, kind: RungKind(rawValue: kind) ?? .escalation, rung: rung, audience: audience,
            stage: ClockStage(rawValue: stage) ?? .resolve,
            holder: DeadlineEventData.Holder(kind: holderKind, code: try code(holderCode)), taskID: task.lowercased, findingID: finding.lowercased,
            findingTitle: title, requestID: request?.lowercased, dueAt: due, rungAt: rungAt, raisedAt: raisedAt, dutyState: dutyState,
            acknowledgedAt: acknowledgedAt, acknowledgedBy: acknowledgedBy, note: note)
    }

    /// Fills each task's `due`: its agency's open acknowledge or resolve clock, if any.
    static func attachDue(to views: inout [TaskView], at now: Date, on connection: PostgresConnection) async throws {
        let ids = views.compactMap { UUID(uuidString: $0.id) }
        if ids.isEmpty { return }
        let results = try await connection.pipeline(
            CalendarStore.queries + [
                """
                SELECT task_id, stage, state, started_at, due_at, reminder_percent, step_working_days, paused_at FROM deadlines
                WHERE task_id = ANY(\(ids)::uuid[]) AND state IN ('running', 'paused') AND stage IN ('acknowledge', 'resolve')
                """
            ])
        let calendar = try CalendarStore.decode(results[0...1])
        var due: [String: DueView] = [:]
        for (task, stage, state, started, dueAt, percent, step, paused) in try results[2].decode(
            (UUID, String, String, Date, Date, Int, Int, Date?).self)
        {
            guard let stage = ClockStage(rawValue: stage) else { continue }
            let clock = DutyClock(startedAt: started, dueAt: dueAt, reminderPercent: percent, stepWorkingDays: step)
            due[task.lowercased] = DueView(stage: stage, clock: clock, paused: state == "paused", now: paused ?? now, calendar: calendar)
        }
        for index in views.indices { views[index].due = due[views[index].id] }
    }
}
