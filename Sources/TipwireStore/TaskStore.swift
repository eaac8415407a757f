import Foundation
import Postgres
import TipwireCore

public enum TaskCommandOutcome: Sendable {
    /// Committed. `opened` is the new task a transfer created.
    case applied(TaskDetail, opened: TaskView?)
    /// No such task, or not visible to the actor.
    case notFound
    case rejected(TaskRejection)
    /// The change conflicts with other rows (the target agency already holds an open task on the finding).
    case conflict(String)
}

/// The task lifecycle on the database: every action goes through `TaskLifecycle.apply`, whoever sends it.
public struct TaskStore: Sendable {
    public let client: PostgresClient
    public let findings: FindingStore

    public init(client: PostgresClient, findings: FindingStore) {
        self.client = client
        self.findings = findings
    }

    /// Applies an action in one transaction: the task's new state, its event, for a transfer the new
    /// task and its `task.assigned`, and for an outcome the newsroom's `finding.update`.
    /// `at` is when it happens: now, but for `tipwire demo history`, which writes a past.
    public func perform(_ action: TaskAction, on taskID: UUID, by actor: TaskActor, actorName: String, at time: Date = Date()) async throws
        -> TaskCommandOutcome
    {
        switch try await perform(action, on: taskID, by: actor, actorName: actorName, idempotency: .unclaimed, at: time) {
        case .answered(_, let outcome), .refused(let outcome): return outcome
        // Without a claim nothing is replayed; a caller passing one uses the form below.
        case .replayed, .keyReused: return .notFound
        }
    }

    /// `perform` for a request that may carry an `Idempotency-Key`: a retry gets the stored answer and
    /// spends nothing twice (a second extension, a second transfer).
    public func perform(
        _ action: TaskAction, on taskID: UUID, by actor: TaskActor, actorName: String, idempotency: Idempotency<TaskCommandOutcome>,
        at time: Date = Date()
    ) async throws -> Idempotent<TaskCommandOutcome> {
        do {
            return try await client.withTransaction(idempotency) { connection in
                try await command(action, on: taskID, by: actor, actorName: actorName, at: time, connection: connection)
            }
        } catch let error as PostgresError where error.violates(Constraint.oneOpenTaskPerAgency) {
            return .refused(.conflict(Self.oneOpenTaskPerAgencyConflict))
        }
    }

    static let oneOpenTaskPerAgencyConflict = "that agency already holds an open task on this finding"

    /// An action and the task as it stands after it, on `connection`.
    private func command(
        _ action: TaskAction, on taskID: UUID, by actor: TaskActor, actorName: String, at time: Date, connection: PostgresConnection
    ) async throws -> TaskCommandOutcome {
        switch try await perform(action, on: taskID, by: actor, actorName: actorName, eventKind: nil, at: time, connection: connection) {
        case .success(let opened):
            guard let view = try await detail(taskID, for: actor, on: connection) else { return .notFound }
            return .applied(view, opened: opened?.view)
        case .failure(.notFound): return .notFound
        case .failure(.rejected(let rejection)): return .rejected(rejection)
        case .failure(.conflict(let detail)): return .conflict(detail)
        }
    }

    /// A task as it stands, locked in the current transaction.
    struct LockedTask {
        var id: UUID
        var findingID: UUID
        /// The finding's category, whose deadline policies apply.
        var category: String
        /// The agency the finding accuses, which may never hold a task on it.
        var subjectAgency: PartyCode?
        var snapshot: TaskSnapshot
    }

    /// Why `plan` refused an action.
    enum PlanFailure: Error {
        /// The actor may not see the task.
        case notFound
        case rejected(TaskRejection)
        /// The change would break a rule about other parties (the finding's subject agency as the new holder).
        case conflict(String)
    }

    /// One accepted action, planned in memory and written by `write`.
    struct Change {
        var task: LockedTask
        var action: TaskAction
        var transition: TaskTransition
        var actorName: String
        var at: Date
        var eventDetail: [String: JSONValue]
        var opened: TaskRow?

        var outcome: TaskOutcome? { action.outcome }
    }

    /// Applies an action on `connection` (in the caller's transaction). `eventKind` names the task event
    /// differently from the lifecycle's default (a declined information request).
    func perform(
        _ action: TaskAction, on taskID: UUID, by actor: TaskActor, actorName: String, eventKind: String?, at time: Date = Date(),
        connection: PostgresConnection
    ) async throws -> Result<TaskRow?, PlanFailure> {
        // Scope first: a task the actor may not see is neither locked nor read further.
        guard let task = try await Self.lock([taskID], visibleTo: actor, on: connection)[taskID] else { return .failure(.notFound) }
        let agencies = try await Self.knownAgencies(for: [action], on: connection)
        let rules = try await DeadlineRules.load(on: connection)
        let planned = Self.plan(
            action, on: task, by: actor, actorName: actorName, policies: rules.policies, eventKind: eventKind, agencies: agencies, at: time)
        guard case .success(let change) = planned else { return planned.map(\.opened) }
        try await write([change], rules: rules, on: connection)
        return .success(change.opened)
    }

    /// Locks the tasks `actor` may see (in id order, so concurrent batches cannot deadlock) and reads what
    /// the rules need. Tasks outside the actor's scope are left out, unlocked.
    static func lock(_ ids: [UUID], visibleTo actor: TaskActor, on connection: PostgresConnection) async throws -> [UUID: LockedTask] {
        let scope = RequestStore.scope(actor)
        return try await lock(
            where: """
                t.id = ANY(\(Array(Set(ids)))::uuid[])
                  AND (\(scope.agency)::text IS NULL OR t.agency_code = \(scope.agency))
                  AND (\(scope.newsroom)::text IS NULL OR f.newsroom_code = \(scope.newsroom))
                """, on: connection)
    }

    /// Locks the tasks each named agency holds among `pairs`: a Kafka batch's tasks, each by its topic's agency.
    static func lock(_ pairs: [(task: UUID, agency: PartyCode)], on connection: PostgresConnection) async throws -> [UUID: LockedTask] {
        try await lock(
            where: "(t.id, t.agency_code) IN (SELECT * FROM unnest(\(pairs.map(\.task))::uuid[], \(pairs.map(\.agency.rawValue))::text[]))",
            on: connection)
    }

    private static func lock(where condition: PostgresQuery, on connection: PostgresConnection) async throws -> [UUID: LockedTask] {
        let rows = try await connection.query(
            """
            SELECT t.id, t.state, t.agency_code, f.newsroom_code, t.extensions, t.finding_id, f.category_code, f.subject_agency_code
            FROM tasks t JOIN findings f ON f.id = t.finding_id
            WHERE \(fragment: condition)
            ORDER BY t.id FOR UPDATE OF t
            """)
        var tasks: [UUID: LockedTask] = [:]
        for row in rows {
            let (id, stateText, agency, newsroom, extensions, findingID, category, subject) =
                try row.decode((UUID, String, String, String, Int, UUID, String, String?).self)
            guard let state = TaskState(rawValue: stateText) else { throw CorruptRow(description: "task \(id) has unknown state \(stateText)") }
            tasks[id] = LockedTask(
                id: id, findingID: findingID, category: category, subjectAgency: try subject.map(code),
                snapshot: TaskSnapshot(state: state, agency: try code(agency), newsroom: try code(newsroom), extensions: extensions))
        }
        return tasks
    }

    /// The agency codes, when an action may open a task for one (a transfer).
    static func knownAgencies(for actions: [TaskAction], on connection: PostgresConnection) async throws -> Set<String> {
        guard actions.contains(where: { $0.name == .transfer }) else { return [] }
        return Set(try await ReferenceData.agencyCodes(on: connection).map(\.rawValue))
    }

    /// Decides an action in memory: the lifecycle's rules (extension limits from the category's deadline
    /// policies), visibility, and what the change will write.
    static func plan(
        _ action: TaskAction, on task: LockedTask, by actor: TaskActor, actorName: String, policies: [DeadlinePolicy], eventKind: String?,
        agencies: Set<String>, at now: Date
    ) -> Result<Change, PlanFailure> {
        guard actor.canSee(task.snapshot) else { return .failure(.notFound) }
        var transition: TaskTransition
        let policy = DeadlinePolicy.lifecyclePolicy(policies, category: task.category)
        switch TaskLifecycle.apply(action, by: actor, to: task.snapshot, policy: policy) {
        case .failure(let rejection): return .failure(.rejected(rejection))
        case .success(let accepted): transition = accepted
        }
        if let eventKind { transition.eventKind = eventKind }
        var change = Change(task: task, action: action, transition: transition, actorName: actorName, at: now, eventDetail: action.timelineDetail)
        if let target = transition.opensTaskFor {
            guard agencies.contains(target.rawValue) else {
                return .failure(.rejected(.invalid(ValidationFailure("agency", "is not a known agency code"))))
            }
            if let conflict = RoutingTable.conflict(assigning: target, subjectAgency: task.subjectAgency) { return .failure(.conflict(conflict)) }
            let row = TaskRow(
                id: UUID.timeOrdered(), findingID: task.findingID, agency: target, routedBy: actor == .coordinator ? .reassignment : .transfer,
                previousTaskID: task.id, assignedAt: now)
            change.eventDetail["new_task_id"] = .string(row.id.lowercased)
            change.opened = row
        }
        return .success(change)
    }

    /// Writes planned changes, in order, with a statement per table: each task's final state, every event,
    /// transferred tasks, information requests, the clocks they start, move or stop, and the outbox rows
    /// that announce them.
    func write(_ plannedChanges: [Change], rules: DeadlineRules, on connection: PostgresConnection) async throws {
        if plannedChanges.isEmpty { return }
        var changes = plannedChanges
        for index in changes.indices {
            guard case .requestInfo(let questions, let wanted) = changes[index].action else { continue }
            let task = changes[index].task
            let request = try await RequestStore.create(
                task: task.id, finding: task.findingID, newsroom: task.snapshot.newsroom, agency: task.snapshot.agency, direction: .toNewsroom,
                questions: questions, documentsWanted: wanted, askedBy: changes[index].actorName, now: changes[index].at, category: task.category,
                rules: rules, on: connection)
            changes[index].eventDetail["request_id"] = .string(request.id)
            changes[index].eventDetail["due_at"] = .string(formatTimestamp(request.dueAt))
        }
        // One row per task: its state after the last change.
        var final: [UUID: Change] = [:]
        for change in changes { final[change.task.id] = change }
        let updates = Array(final.values)
        var events: [TaskEventRow] = []
        var opened: [TaskRow] = []
        for change in changes {
            events.append(
                TaskEventRow(
                    taskID: change.task.id, kind: change.transition.eventKind, actor: change.actorName, at: change.at,
                    detail: try Self.json(change.eventDetail)))
            if let row = change.opened {
                let assigned: [String: JSONValue] = [
                    "routed_by": .string(row.routedBy.rawValue), "previous_task_id": .string(change.task.id.lowercased),
                    "reason": change.eventDetail["reason"] ?? .null,
                ]
                opened.append(row)
                events.append(TaskEventRow(taskID: row.id, kind: "assigned", actor: change.actorName, at: change.at, detail: try Self.json(assigned)))
            }
        }
        var writes: [PostgresQuery] = [
            """
            UPDATE tasks t SET state = r.state, extensions = r.extensions, outcome = r.outcome, updated_at = r.at
            FROM unnest(\(updates.map(\.task.id))::uuid[], \(updates.map(\.transition.to.rawValue))::text[], \(updates.map(\.transition.extensions))::int[],
                        \(updates.map { $0.outcome?.rawValue })::text[], \(updates.map(\.at))::timestamptz[]) AS r(id, state, extensions, outcome, at)
            WHERE t.id = r.id
            """
        ]
        if !opened.isEmpty { writes.append(Inserts.tasks(opened)) }
        writes.append(Inserts.taskEvents(events))
        _ = try await connection.pipeline(writes)
        try await AuditStore.record(changes.compactMap(Self.audit), on: connection)
        try await DeadlineStore.apply(changes, rules: rules, on: connection)

        var outbox: [OutboundEvent] = []
        if !opened.isEmpty {
            // Each new holder receives what it may see: the finding and the documents given to it.
            for row in opened {
                guard let view = try await findings.loadViews(where: "f.id = \(row.findingID)", for: .agency(row.agency), on: connection).first else {
                    continue
                }
                outbox.append(try .taskAssigned(row, finding: view.finding, documents: view.documents))
            }
        }
        let outcomes = changes.filter { [.resolve, .transfer, .decline, .close].contains($0.action.name) }
        if !outcomes.isEmpty {
            var accounted: [UUID: Bool] = [:]
            for (finding, done) in try await connection.query(
                """
                SELECT finding_id, bool_and(state IN ('resolved', 'declined', 'transferred', 'closed')) FROM tasks
                WHERE finding_id = ANY(\(Array(Set(outcomes.map(\.task.findingID))))::uuid[]) GROUP BY finding_id
                """
            ).decode((UUID, Bool).self) {
                accounted[finding] = done
            }
            for change in outcomes {
                let task = change.task
                let data = FindingUpdateData(
                    findingID: task.findingID, taskID: task.id, agency: task.snapshot.agency, state: change.transition.to, action: change.action.name,
                    outcome: change.outcome, text: change.action.text, transferredTo: change.transition.opensTaskFor, newTaskID: change.opened?.id,
                    accountedFor: accounted[task.findingID] ?? false, at: change.at)
                outbox.append(
                    OutboundEvent(
                        type: EventType.findingUpdate, subject: "tasks/\(task.id.lowercased)", time: change.at,
                        topic: TopicName.requests(task.snapshot.newsroom),
                        key: task.findingID.lowercased, data: try TipwireJSON.encode(data)))
            }
        }
        if !outbox.isEmpty { _ = try await connection.pipeline(Inserts.outbox(outbox)) }
    }

    /// The audit entry of a change the log keeps: a coordinator's reassignment, a close.
    static func audit(_ change: Change) -> AuditEntry? {
        let object = "tasks/\(change.task.id.lowercased)"
        if let opened = change.opened, opened.routedBy == .reassignment {
            return AuditEntry(
                actor: change.actorName, action: .taskReassigned, object: object,
                detail: ["to": .string(opened.agency.rawValue), "new_task_id": .string(opened.id.lowercased), "reason": .string(change.action.text)])
        }
        guard case .close = change.action else { return nil }
        return AuditEntry(actor: change.actorName, action: .taskClosed, object: object, detail: ["reason": .string(change.action.text)])
    }

    static func json(_ value: [String: JSONValue]) throws -> String {
        String(decoding: try TipwireJSON.encode(value), as: UTF8.self)
    }
}
