import Foundation
import Postgres
import TipwireCore

/// The deadline policies and the working-day calendar, read together in one round trip.
public struct DeadlineRules: Sendable {
    public var policies: [DeadlinePolicy]
    public var calendar: WorkingCalendar

    public init(policies: [DeadlinePolicy], calendar: WorkingCalendar) {
        self.policies = policies
        self.calendar = calendar
    }

    public func policy(_ stage: DeadlineStage, category: String) -> DeadlinePolicy {
        DeadlinePolicy.effective(policies, category: category, stage: stage)
    }

    /// A clock for `stage` of a duty on a finding of `category`, started at `start`.
    func clock(_ stage: ClockStage, category: String, start: Date) -> DutyClock {
        DutyClock(policy: policy(stage.policyStage, category: category), start: start, calendar: calendar)
    }

    static func load(on connection: PostgresConnection) async throws -> DeadlineRules {
        try decode(try await connection.pipeline(statements))
    }

    /// What `load` reads, in one round trip: the policies, then the calendar.
    static let statements: [PostgresQuery] = [PolicyStore.query] + CalendarStore.queries

    /// The rules from the results of `statements`, in order.
    static func decode(_ results: some Collection<PostgresRows>) throws -> DeadlineRules {
        let results = Array(results)
        return DeadlineRules(policies: try PolicyStore.decode(results[0]), calendar: try CalendarStore.decode(results.dropFirst()))
    }
}

/// One clock as transitions see it: read from `deadlines` (locked) or started in memory, changed in
/// memory in the order of the changes, then written set-wise.
struct ClockRow: Sendable {
    enum State: String { case running, paused, met, cancelled }

    /// What a clock's events say of its duty, copied onto the clock when it starts.
    struct Duty: Sendable {
        var task: UUID
        var finding: UUID
        var agency: PartyCode
        var newsroom: PartyCode
        var category: String
    }

    var id: Int64?
    var duty: Duty
    var requestID: UUID?
    var stage: ClockStage
    var holder: DutyHolder
    var state: State
    var clock: DutyClock
    var nextRung: Int
    var pausedAt: Date?
    var stoppedAt: Date?
    /// Changed in memory since it was read: only such clocks (and new ones) are written back.
    var changed = false

    var taskID: UUID { duty.task }
    var isOpen: Bool { state == .running || state == .paused }

    /// When the engine should next look at this clock: the next rung's time while running, else never.
    func nextAt(calendar: WorkingCalendar) -> Date? {
        state == .running ? clock.time(ofRung: nextRung, calendar: calendar) : nil
    }

    static func started(_ duty: Duty, request: UUID? = nil, stage: ClockStage, holder: DutyHolder, clock: DutyClock) -> ClockRow {
        ClockRow(id: nil, duty: duty, requestID: request, stage: stage, holder: holder, state: .running, clock: clock, nextRung: 0)
    }

    mutating func stop(_ state: State, at time: Date) {
        guard isOpen else { return }
        self.state = state
        stoppedAt = time
        pausedAt = nil
        changed = true
    }

    mutating func pause(at time: Date) {
        guard state == .running else { return }
        state = .paused
        pausedAt = time
        changed = true
    }

    mutating func resume(at time: Date) {
        guard state == .paused, let pausedAt else { return }
        clock = clock.resumed(after: time.timeIntervalSince(pausedAt))
        state = .running
        self.pausedAt = nil
        changed = true
    }

    mutating func moveDue(to due: Date) {
        clock.dueAt = due
        changed = true
    }
}

/// Clocks on the database: started, paused, moved and stopped by transitions in their transactions,
/// and raised rung by rung by the deadline engine.
public enum DeadlineStore {
    /// NOTIFY channel that wakes the engine when a clock starts or moves.
    public static let channel = "tipwire_deadlines"
    static let wakeEngine: PostgresQuery = "SELECT pg_notify('tipwire_deadlines', '')"

    // MARK: - Transitions

    /// The open clocks of `tasks` with their timers, both locked for the transaction (the engine skips
    /// them meanwhile, and a transition waits for the engine's pass to commit and then sees its rungs).
    static func openClocks(of tasks: [UUID], on connection: PostgresConnection) async throws -> [ClockRow] {
        let rows = try await connection.query(
            """
            SELECT d.id, d.task_id, d.finding_id, d.agency_code, d.newsroom_code, d.category_code, d.request_id, d.stage, d.holder_kind, d.holder_code,
                   d.state, d.started_at, d.due_at, d.reminder_percent, d.step_working_days, x.next_rung, d.paused_at
            FROM deadlines d JOIN deadline_timers x ON x.deadline_id = d.id
            WHERE d.task_id = ANY(\(Array(Set(tasks)))::uuid[]) AND d.state IN ('running', 'paused') ORDER BY d.id FOR UPDATE OF d, x
            """)
        return try rows.map { row in
            let (
                id, task, finding, agency, newsroom, category, request, stage, holderKind, holderCode, state, started, due, percent, step, next,
                paused
            ) =
                try row.decode(
                    (Int64, UUID, UUID, String, String, String, UUID?, String, String, String, String, Date, Date, Int, Int, Int, Date?).self)
            guard let stage = ClockStage(rawValue: stage), let holder = DutyHolder(kind: holderKind, code: try code(holderCode)),
                let state = ClockRow.State(rawValue: state)
            else { throw CorruptRow(description: "deadline \(id) has stage \(stage), holder \(holderKind):\(holderCode), state \(state)") }
            return ClockRow(
                id: id, duty: ClockRow.Duty(task: task, finding: finding, agency: try code(agency), newsroom: try code(newsroom), category: category),
                requestID: request, stage: stage, holder: holder, state: state,
                clock: DutyClock(startedAt: started, dueAt: due, reminderPercent: percent, stepWorkingDays: step), nextRung: next, pausedAt: paused)
        }
    }

    /// What the lifecycle's changes do to the clocks, in order: acknowledging meets the acknowledge
    /// clock and starts the resolve clock; asking the newsroom pauses it and answering resumes it; an
    /// extension moves its due time; resolving meets every open clock and transfer, decline and close
    /// cancel them; reopening starts a new resolve clock.
    static func apply(_ changes: [TaskStore.Change], rules: DeadlineRules, on connection: PostgresConnection) async throws {
        let relevant = changes.filter { $0.action.name != .start }
        if relevant.isEmpty { return }
        var clocks = try await openClocks(of: relevant.map(\.task.id), on: connection)
        func update(_ task: UUID, stages: Set<ClockStage>? = nil, _ body: (inout ClockRow) -> Void) {
            for index in clocks.indices where clocks[index].taskID == task && clocks[index].isOpen && (stages?.contains(clocks[index].stage) ?? true)
            {
                body(&clocks[index])
            }
        }
        for change in relevant {
            let task = change.task
            let at = change.at
            let duty = ClockRow.Duty(
                task: task.id, finding: task.findingID, agency: task.snapshot.agency, newsroom: task.snapshot.newsroom, category: task.category)
            switch change.action {
            case .acknowledge:
                update(task.id, stages: [.acknowledge]) { $0.stop(.met, at: at) }
                clocks.append(
                    .started(
                        duty, stage: .resolve, holder: .agency(task.snapshot.agency), clock: rules.clock(.resolve, category: task.category, start: at)
                    ))
            case .reopen:
                clocks.append(
                    .started(
                        duty, stage: .resolve, holder: .agency(task.snapshot.agency), clock: rules.clock(.resolve, category: task.category, start: at)
                    ))
            case .requestInfo:
                update(task.id, stages: [.resolve]) { $0.pause(at: at) }
            case .answerInfo:
                update(task.id, stages: [.resolve]) { $0.resume(at: at) }
            case .extend(let days, _):
                let policy = rules.policy(.extension, category: task.category)
                update(task.id, stages: [.resolve]) { $0.moveDue(to: policy.extending($0.clock.dueAt, by: days, calendar: rules.calendar)) }
            case .resolve:
                update(task.id) { $0.stop(.met, at: at) }
            case .transfer, .decline, .close:
                update(task.id) { $0.stop(.cancelled, at: at) }
            case .start:
                break
            }
        }
        try await write(clocks, calendar: rules.calendar, on: connection)
    }

    /// Inserts new clocks with their timers and updates changed ones (clocks read but left as they
    /// were are not written), and wakes the engine. A timer's next rung is the engine's to move;
    /// transitions set only when it falls due.
    static func write(_ clocks: [ClockRow], calendar: WorkingCalendar, on connection: PostgresConnection) async throws {
        var new = clocks.filter { $0.id == nil }
        let old = clocks.filter { $0.id != nil && $0.changed }
        if !new.isEmpty {
            let ids = try await connection.query(
                "SELECT nextval(pg_get_serial_sequence('deadlines', 'id')) FROM generate_series(1, \(new.count))"
            ).decodeColumn(Int64.self)
            for index in new.indices { new[index].id = ids[index] }
        }
        var writes: [PostgresQuery] = []
        if !new.isEmpty {
            writes.append(
                """
                INSERT INTO deadlines (id, task_id, finding_id, agency_code, newsroom_code, category_code, request_id, stage, holder_kind, holder_code,
                                       state, started_at, due_at, reminder_percent, step_working_days, paused_at, stopped_at)
                OVERRIDING SYSTEM VALUE
                SELECT * FROM unnest(\(new.map(\.id))::bigint[], \(new.map(\.duty.task))::uuid[], \(new.map(\.duty.finding))::uuid[],
                    \(new.map(\.duty.agency.rawValue))::text[], \(new.map(\.duty.newsroom.rawValue))::text[], \(new.map(\.duty.category))::text[],
                    \(new.map(\.requestID))::uuid[], \(new.map(\.stage.rawValue))::text[], \(new.map(\.holder.kind))::text[],
                    \(new.map(\.holder.code.rawValue))::text[], \(new.map(\.state.rawValue))::text[], \(new.map(\.clock.startedAt))::timestamptz[],
                    \(new.map(\.clock.dueAt))::timestamptz[], \(new.map(\.clock.reminderPercent))::int[], \(new.map(\.clock.stepWorkingDays))::int[],
                    \(new.map(\.pausedAt))::timestamptz[], \(new.map(\.stoppedAt))::timestamptz[])
                """)
            writes.append(
                """
                INSERT INTO deadline_timers (deadline_id, next_rung, next_at)
                SELECT * FROM unnest(\(new.map(\.id))::bigint[], \(new.map(\.nextRung))::int[], \(new.map { $0.nextAt(calendar: calendar) })::timestamptz[])
                """)
        }
        if !old.isEmpty {
            writes.append(
                """
                UPDATE deadlines d SET state = r.state, started_at = r.started_at, due_at = r.due_at, paused_at = r.paused_at, stopped_at = r.stopped_at
                FROM unnest(\(old.map(\.id))::bigint[], \(old.map(\.state.rawValue))::text[], \(old.map(\.clock.startedAt))::timestamptz[],
                            \(old.map(\.clock.dueAt))::timestamptz[], \(old.map(\.pausedAt))::timestamptz[], \(old.map(\.stoppedAt))::timestamptz[])
                     AS r(id, state, started_at, due_at, paused_at, stopped_at)
                WHERE d.id = r.id
                """)
            writes.append(
                """
                UPDATE deadline_timers x SET next_at = r.next_at
                FROM unnest(\(old.map(\.id))::bigint[], \(old.map { $0.nextAt(calendar: calendar) })::timestamptz[]) AS r(id, next_at)
                WHERE x.deadline_id = r.id
                """)
        }
        if writes.isEmpty { return }
        writes.append(wakeEngine)
        _ = try await connection.pipeline(writes)
    }

    /// Starts the clock of a new information request: the newsroom's or the agency's answer.
    static func startRequestClock(
        task: UUID, finding: UUID, request: UUID, direction: RequestDirection, newsroom: PartyCode, agency: PartyCode, category: String, at now: Date,
        rules: DeadlineRules, on connection: PostgresConnection
    ) async throws {
        let stage: ClockStage = direction == .toNewsroom ? .newsroomAnswer : .agencyAnswer
        let holder: DutyHolder = direction == .toNewsroom ? .newsroom(newsroom) : .agency(agency)
        let duty = ClockRow.Duty(task: task, finding: finding, agency: agency, newsroom: newsroom, category: category)
        let row = ClockRow.started(duty, request: request, stage: stage, holder: holder, clock: rules.clock(stage, category: category, start: now))
        try await write([row], calendar: rules.calendar, on: connection)
    }

    /// Stops an answered or declined request's clock.
    static func meetRequestClock(_ request: UUID, at time: Date) -> PostgresQuery {
        """
        WITH met AS (
            UPDATE deadlines SET state = 'met', paused_at = NULL, stopped_at = \(time)
            WHERE request_id = \(request) AND state IN ('running', 'paused') RETURNING id
        )
        UPDATE deadline_timers SET next_at = NULL WHERE deadline_id IN (SELECT id FROM met)
        """
    }

    /// The acknowledge clocks of tasks the relay has just delivered (`delivered` is when), one per
    /// category of finding so the statement can pick each task's by a join.
    static func acknowledgeClocks(deliveredAt delivered: Date, rules: DeadlineRules, categories: [String]) -> [(
        category: String, clock: DutyClock, nextAt: Date?
    )] {
        categories.map { category in
            let clock = rules.clock(.acknowledge, category: category, start: delivered)
            return (category, clock, clock.time(ofRung: 0, calendar: rules.calendar))
        }
    }

    // MARK: - The engine

    /// Raises the next rung of up to `limit` clocks whose time has come at `now`, in one transaction:
    /// each rung's record, its events in the outbox, and the clock moved to its following rung.
    /// Clocks another transaction holds are skipped (`SKIP LOCKED`).
    public static func raiseDue(
        at now: Date, limit: Int, engine: String, calendar: WorkingCalendar, on connection: PostgresConnection
    ) async throws -> (claimed: Int, raised: Int) {
        try await connection.withTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT x.deadline_id, x.next_rung, x.next_at, d.task_id, d.finding_id, d.agency_code, d.newsroom_code, d.category_code, d.request_id,
                       d.stage, d.holder_kind, d.holder_code, d.started_at, d.due_at, d.reminder_percent, d.step_working_days
                FROM (SELECT * FROM deadline_timers WHERE next_at <= \(now) ORDER BY next_at LIMIT \(limit) FOR UPDATE SKIP LOCKED) x
                -- LATERAL: one primary-key probe per claimed timer; a plain join lets the planner scan every clock.
                CROSS JOIN LATERAL (SELECT * FROM deadlines WHERE id = x.deadline_id) d
                """)
            if rows.isEmpty { return (0, 0) }
            var rungs: [(id: UUID, deadline: Int64, rung: Rung, at: Date)] = []
            var moves: [(id: Int64, next: Int, at: Date?)] = []
            var outbox: [OutboundEvent] = []
            for row in rows {
                let (
                    id, next, nextAt, task, finding, agency, newsroom, category, request, stageText, holderKind, holderCode, started, due, percent,
                    step
                ) =
                    try row.decode((Int64, Int, Date, UUID, UUID, String, String, String, UUID?, String, String, String, Date, Date, Int, Int).self)
                guard let stage = ClockStage(rawValue: stageText), let holder = DutyHolder(kind: holderKind, code: try code(holderCode)) else {
                    throw CorruptRow(description: "deadline \(id) has stage \(stageText) and holder \(holderKind):\(holderCode)")
                }
                let clock = DutyClock(startedAt: started, dueAt: due, reminderPercent: percent, stepWorkingDays: step)
                guard let rung = EscalationLadder.rung(next) else {
                    moves.append((id, next, nil))
                    continue
                }
                let rungID = UUID.timeOrdered(at: now)
                let data = DeadlineEventData(
                    escalationID: rungID, stage: stage, holder: holder, task: (task, try code(agency)),
                    finding: (finding, try code(newsroom), category),
                    requestID: request, rung: rung, clock: clock, rungAt: nextAt, raisedAt: now, calendar: calendar)
                let payload = data.json()
                for topic in rung.topics(for: holder) {
                    outbox.append(
                        OutboundEvent(
                            id: .timeOrdered(at: now), type: rung.eventType, subject: "tasks/\(task.lowercased)", time: now, topic: topic,
                            key: finding.lowercased, data: payload))
                }
                rungs.append((rungID, id, rung, nextAt))
                moves.append((id, next + 1, clock.time(ofRung: next + 1, calendar: calendar)))
            }
            var writes: [PostgresQuery] = [
                """
                UPDATE deadline_timers x SET next_rung = r.next_rung, next_at = r.next_at
                FROM unnest(\(moves.map(\.id))::bigint[], \(moves.map(\.next))::int[], \(moves.map(\.at))::timestamptz[]) AS r(id, next_rung, next_at)
                WHERE x.deadline_id = r.id
                """
            ]
            if !rungs.isEmpty {
                writes +=
                    [
                        """
                        INSERT INTO deadline_rungs (id, deadline_id, rung, kind, audience, rung_at, raised_at, raised_by)
                        SELECT id, deadline_id, rung, kind, audience, rung_at, \(now), \(engine)
                        FROM unnest(\(rungs.map(\.id))::uuid[], \(rungs.map(\.deadline))::bigint[], \(rungs.map(\.rung.index))::int[],
                                    \(rungs.map(\.rung.kind.rawValue))::text[], \(rungs.map(\.rung.audience))::text[], \(rungs.map(\.at))::timestamptz[])
                             AS r(id, deadline_id, rung, kind, audience, rung_at)
                        """
                    ] + Inserts.outbox(outbox)
            }
            _ = try await connection.pipeline(writes)
            return (rows.count, rungs.count)
        }
    }

    /// When the earliest running clock next needs the engine; nil when none does.
    public static func nextDue(on connection: PostgresConnection) async throws -> Date? {
        try await connection.query("SELECT min(next_at) FROM deadline_timers WHERE next_at IS NOT NULL")[0].decode(column: 0, as: Date?.self)
    }

    /// The calendar, for the engine's pass.
    public static func calendar(on connection: PostgresConnection) async throws -> WorkingCalendar {
        try await CalendarStore.load(on: connection)
    }
}

extension WorkerSession {
    /// `DeadlineStore.raiseDue` on the engine's own session.
    public func raiseDue(at now: Date, limit: Int, engine: String, calendar: WorkingCalendar) async throws -> (claimed: Int, raised: Int) {
        try await DeadlineStore.raiseDue(at: now, limit: limit, engine: engine, calendar: calendar, on: connection)
    }

    /// `DeadlineStore.nextDue` on the engine's own session.
    public func nextDue() async throws -> Date? { try await DeadlineStore.nextDue(on: connection) }

    /// The working calendar, read on the engine's own session.
    public func calendar() async throws -> WorkingCalendar { try await DeadlineStore.calendar(on: connection) }
}
