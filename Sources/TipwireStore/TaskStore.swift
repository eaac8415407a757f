import Foundation
import Postgres
import TipwireCore

/// One event of a task's timeline.
public struct TaskEventView: Sendable, Hashable, Codable {
    public var id: Int64
    public var kind: String
    public var actor: String
    public var at: Date
    public var detail: JSONValue
}

/// A task with its finding's headline, its timeline and what the caller may do next.
public struct TaskDetail: Sendable, Encodable {
    public var task: TaskView
    public var findingTitle: String
    public var newsroom: PartyCode
    public var category: String
    public var jurisdiction: PartyCode
    public var events: [TaskEventView]
    public var allowedActions: [TaskActionName]

    enum CodingKeys: String, CodingKey {
        case events, newsroom, category, jurisdiction
        case findingTitle = "finding_title", allowedActions = "allowed_actions"
    }

    /// The task's fields, flattened, then the finding's headline, the timeline and the allowed actions.
    public func encode(to encoder: any Encoder) throws {
        try task.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(findingTitle, forKey: .findingTitle)
        try container.encode(newsroom, forKey: .newsroom)
        try container.encode(category, forKey: .category)
        try container.encode(jurisdiction, forKey: .jurisdiction)
        try container.encode(events, forKey: .events)
        try container.encode(allowedActions, forKey: .allowedActions)
    }
}

public enum TaskCommandOutcome: Sendable {
    /// Committed. `opened` is the new task a transfer created.
    case applied(TaskDetail, opened: TaskView?)
    /// No such task, or not visible to the actor.
    case notFound
    case rejected(TaskRejection)
    /// The change conflicts with other rows (the target agency already holds an open task on the finding).
    case conflict(String)
}

/// Filters for `GET /v1/tasks`.
public struct TaskFilter: Sendable {
    public var agency: PartyCode?
    public var state: TaskState?
    public var category: String?
    public var after: PageCursor?
    public var limit: Int

    public init(agency: PartyCode? = nil, state: TaskState? = nil, category: String? = nil, after: PageCursor? = nil, limit: Int = 20) {
        self.agency = agency
        self.state = state
        self.category = category
        self.after = after
        self.limit = limit
    }
}

extension TaskView {
    static let columns = """
        t.id, t.finding_id, t.agency_code, t.state, t.routed_by, t.previous_task_id, t.assigned_at, t.deliver_by, t.delivered_at,
        t.extensions, t.outcome
        """

    init(row: PostgresRow) throws {
        let (id, findingID, agency, state, routedBy, previous, assignedAt, deliverBy, deliveredAt, extensions, outcome) =
            try row.decode((UUID, UUID, String, String, String, UUID?, Date, Date, Date?, Int, String?).self)
        self.init(
            id: id.lowercased, findingID: findingID.lowercased, agency: try code(agency), state: state,
            routedBy: RoutingReason(rawValue: routedBy) ?? .rule, previousTaskID: previous?.lowercased, assignedAt: assignedAt,
            deliverBy: deliverBy, deliveredAt: deliveredAt, extensions: extensions, outcome: outcome.flatMap(TaskOutcome.init))
    }
}

/// The task lifecycle on the database: every action goes through `TaskLifecycle.apply`, whoever sends it.
public struct TaskStore: Sendable {
    public let client: PostgresClient
    let findings: FindingStore

    public init(client: PostgresClient, findings: FindingStore) {
        self.client = client
        self.findings = findings
    }

    /// Applies an action in one transaction: the task's new state, its event, for a transfer the new
    /// task and its `task.assigned`, and for an outcome the newsroom's `finding.update`.
    public func perform(
        _ action: TaskAction, on taskID: UUID, by actor: TaskActor, actorName: String, policy: LifecyclePolicy = .default
    ) async throws -> TaskCommandOutcome {
        do {
            return try await client.withTransaction { connection in
                switch try await perform(action, on: taskID, by: actor, actorName: actorName, policy: policy, eventKind: nil, connection: connection) {
                case .applied(let opened):
                    guard let view = try await detail(taskID, for: actor, on: connection) else { return .notFound }
                    return .applied(view, opened: opened?.view)
                case .notFound: return .notFound
                case .rejected(let rejection): return .rejected(rejection)
                case .conflict(let detail): return .conflict(detail)
                }
            }
        } catch let error as PostgresError where error.constraint == "tasks_one_open_per_agency" {
            return .conflict("that agency already holds an open task on this finding")
        }
    }

    /// What `perform` did on a connection, before the caller reads anything back.
    enum Performed {
        case applied(opened: TaskRow?)
        case notFound
        case rejected(TaskRejection)
        case conflict(String)
    }

    /// Applies an action on `connection` (in the caller's transaction). `eventKind` names the task event
    /// differently from the lifecycle's default (a declined information request).
    func perform(
        _ action: TaskAction, on taskID: UUID, by actor: TaskActor, actorName: String, policy: LifecyclePolicy, eventKind: String?,
        connection: PostgresConnection
    ) async throws -> Performed {
        let rows = try await connection.query(
            """
            SELECT t.state, t.agency_code, f.newsroom_code, t.extensions, t.finding_id
            FROM tasks t JOIN findings f ON f.id = t.finding_id WHERE t.id = \(taskID) FOR UPDATE OF t
            """)
        guard let row = rows.firstRow else { return .notFound }
        let (stateText, agencyText, newsroomText, extensions, findingID) = try row.decode((String, String, String, Int, UUID).self)
        guard let state = TaskState(rawValue: stateText) else { throw CorruptRow(description: "task \(taskID) has unknown state \(stateText)") }
        let task = TaskSnapshot(state: state, agency: try code(agencyText), newsroom: try code(newsroomText), extensions: extensions)
        guard Self.canSee(actor, task) else { return .notFound }

        var transition: TaskTransition
        switch TaskLifecycle.apply(action, by: actor, to: task, policy: policy) {
        case .failure(let rejection): return .rejected(rejection)
        case .success(let accepted): transition = accepted
        }
        if let eventKind { transition.eventKind = eventKind }
        if let target = transition.opensTaskFor, try await connection.query("SELECT 1 FROM agencies WHERE code = \(target.rawValue)").isEmpty {
            return .rejected(.invalid(ValidationFailure("agency", "is not a known agency code")))
        }

        let now = Date()
        var eventDetail = Self.detail(of: action)
        var opened: TaskRow?
        if let target = transition.opensTaskFor {
            let row = TaskRow(
                id: UUID(), findingID: findingID, agency: target, routedBy: actor == .coordinator ? .reassignment : .transfer, previousTaskID: taskID,
                assignedAt: now)
            eventDetail["new_task_id"] = .string(row.id.lowercased)
            opened = row
        }
        if case .requestInfo(let questions, let wanted) = action {
            let request = try await RequestStore.create(
                task: taskID, finding: findingID, newsroom: task.newsroom, agency: task.agency, direction: .toNewsroom, questions: questions,
                documentsWanted: wanted, askedBy: actorName, now: now, on: connection)
            eventDetail["request_id"] = .string(request.id)
            eventDetail["due_at"] = .string(formatTimestamp(request.dueAt))
        }
        let outcome: TaskOutcome? = if case .resolve(let outcome, _) = action { outcome } else { nil }
        var writes: [PostgresQuery] = [
            """
            UPDATE tasks SET state = \(transition.to.rawValue), extensions = \(transition.extensions), outcome = \(outcome?.rawValue),
                             updated_at = \(now)
            WHERE id = \(taskID)
            """,
            Inserts.taskEvents([TaskEventRow(taskID: taskID, kind: transition.eventKind, actor: actorName, at: now, detail: try Self.json(eventDetail))]),
        ]
        if let opened {
            let assigned: [String: JSONValue] = [
                "routed_by": .string(opened.routedBy.rawValue), "previous_task_id": .string(taskID.lowercased), "reason": eventDetail["reason"] ?? .null,
            ]
            writes.append(Inserts.tasks([opened]))
            writes.append(Inserts.taskEvents([TaskEventRow(taskID: opened.id, kind: "assigned", actor: actorName, at: now, detail: try Self.json(assigned))]))
        }
        _ = try await connection.pipeline(writes)

        var outbox: [OutboundEvent] = []
        if let opened, let finding = try await findings.loadViews(where: "f.id = \(findingID)", on: connection).first {
            outbox.append(try .taskAssigned(opened, finding: finding.finding, documents: finding.documents))
        }
        if [.resolve, .transfer, .decline, .close].contains(action.name) {
            let accounted = try await connection.query(
                "SELECT bool_and(state IN ('resolved', 'declined', 'transferred', 'closed')) FROM tasks WHERE finding_id = \(findingID)")[0]
                .decode(column: 0, as: Bool.self)
            let data = FindingUpdateData(
                findingID: findingID, taskID: taskID, agency: task.agency, state: transition.to, action: action.name, outcome: outcome,
                text: Self.text(of: action), transferredTo: transition.opensTaskFor, newTaskID: opened?.id, accountedFor: accounted, at: now)
            outbox.append(
                OutboundEvent(
                    type: EventType.findingUpdate, subject: "tasks/\(taskID.lowercased)", time: now, topic: TopicName.requests(task.newsroom),
                    key: findingID.lowercased, data: try TipwireJSON.encode(data)))
        }
        if !outbox.isEmpty { _ = try await connection.pipeline([Inserts.outbox(outbox), Inserts.wakeRelay]) }
        return .applied(opened: opened)
    }

    /// The task with its timeline, or nil when it does not exist or `actor` may not see it.
    public func detail(_ taskID: UUID, for actor: TaskActor) async throws -> TaskDetail? {
        try await client.withConnection { try await detail(taskID, for: actor, on: $0) }
    }

    func detail(_ taskID: UUID, for actor: TaskActor, on connection: PostgresConnection) async throws -> TaskDetail? {
        let results = try await connection.pipeline([
            """
            SELECT \(unescaped: TaskView.columns), f.title, f.newsroom_code, f.category_code, f.jurisdiction_code
            FROM tasks t JOIN findings f ON f.id = t.finding_id WHERE t.id = \(taskID)
            """,
            "SELECT id, kind, actor, at, detail::text FROM task_events WHERE task_id = \(taskID) ORDER BY id",
        ])
        guard let row = results[0].firstRow else { return nil }
        let task = try TaskView(row: row)
        let (title, newsroom, category, jurisdiction) = (
            try row.decode(column: 11, as: String.self), try code(try row.decode(column: 12, as: String.self)),
            try row.decode(column: 13, as: String.self), try code(try row.decode(column: 14, as: String.self))
        )
        guard let state = TaskState(rawValue: task.state) else { throw CorruptRow(description: "task \(taskID) has unknown state \(task.state)") }
        let snapshot = TaskSnapshot(state: state, agency: task.agency, newsroom: newsroom, extensions: task.extensions)
        guard Self.canSee(actor, snapshot) else { return nil }
        let decoder = JSONDecoder()
        let events = try results[1].map { row -> TaskEventView in
            let (id, kind, actorName, at, detail) = try row.decode((Int64, String, String, Date, String).self)
            return TaskEventView(id: id, kind: kind, actor: actorName, at: at, detail: try decoder.decode(JSONValue.self, from: Data(detail.utf8)))
        }
        return TaskDetail(
            task: task, findingTitle: title, newsroom: newsroom, category: category, jurisdiction: jurisdiction, events: events,
            allowedActions: TaskLifecycle.allowedActions(for: snapshot, by: actor))
    }

    /// A page of tasks, newest first: an agency's own, or all for the coordinator.
    public func list(_ filter: TaskFilter, for actor: TaskActor) async throws -> Page<TaskView> {
        let agency: String?
        switch actor {
        case .agency(let own): agency = own.rawValue
        case .coordinator: agency = filter.agency?.rawValue
        case .newsroom: return Page(items: [], nextCursor: nil)
        }
        let limit = min(max(filter.limit, 1), 100)
        let rows = try await client.query(
            """
            SELECT \(unescaped: TaskView.columns) FROM tasks t JOIN findings f ON f.id = t.finding_id
            WHERE (\(agency)::text IS NULL OR t.agency_code = \(agency))
              AND (\(filter.state?.rawValue)::text IS NULL OR t.state = \(filter.state?.rawValue))
              AND (\(filter.category)::text IS NULL OR f.category_code = \(filter.category))
              AND (\(filter.after?.time)::timestamptz IS NULL OR (t.assigned_at, t.id) < (\(filter.after?.time), \(filter.after?.id)))
            ORDER BY t.assigned_at DESC, t.id DESC LIMIT \(limit + 1)
            """)
        let tasks = try rows.map(TaskView.init(row:))
        let items = Array(tasks.prefix(limit))
        let next = tasks.count > limit ? items.last.flatMap { task in UUID(uuidString: task.id).map { PageCursor(time: task.assignedAt, id: $0).token } } : nil
        return Page(items: items, nextCursor: next)
    }

    /// Agencies see their own tasks, the newsroom the tasks on its findings, the coordinator all.
    static func canSee(_ actor: TaskActor, _ task: TaskSnapshot) -> Bool {
        switch actor {
        case .agency(let agency): agency == task.agency
        case .newsroom(let newsroom): newsroom == task.newsroom
        case .coordinator: true
        }
    }

    /// What an action carries, for its task event.
    static func detail(of action: TaskAction) -> [String: JSONValue] {
        switch action {
        case .acknowledge(let note): note.map { ["note": .string($0)] } ?? [:]
        case .start: [:]
        case .requestInfo(let questions, let wanted): ["questions": .string(questions), "documents_wanted": .array(wanted.map(JSONValue.string))]
        case .answerInfo(let answer): ["answer": .string(answer)]
        case .extend(let days, let reason): ["days": .number(Double(days)), "reason": .string(reason)]
        case .transfer(let agency, let reason): ["to": .string(agency.rawValue), "reason": .string(reason)]
        case .decline(let reason), .reopen(let reason), .close(let reason): ["reason": .string(reason)]
        case .resolve(let outcome, let summary): ["outcome": .string(outcome.rawValue), "summary": .string(summary)]
        }
    }

    static func text(of action: TaskAction) -> String {
        switch action {
        case .resolve(_, let summary): summary
        case .transfer(_, let reason), .decline(let reason), .close(let reason), .reopen(let reason), .extend(_, let reason): reason
        case .acknowledge(let note): note ?? ""
        case .requestInfo(let questions, _): questions
        case .answerInfo(let answer): answer
        case .start: ""
        }
    }

    static func json(_ value: [String: JSONValue]) throws -> String {
        String(decoding: try TipwireJSON.encode(value), as: UTF8.self)
    }
}

/// A response an agency sent over Kafka, already parsed.
public struct AgencyResponse: Sendable {
    public var ceID: String
    public var ceType: String
    public var agency: PartyCode
    public var taskID: UUID
    public var action: TaskAction
    /// Where it was read: topic, partition, offset.
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(ceID: String, ceType: String, agency: PartyCode, taskID: UUID, action: TaskAction, topic: String, partition: Int32, offset: Int64) {
        self.ceID = ceID
        self.ceType = ceType
        self.agency = agency
        self.taskID = taskID
        self.action = action
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

public enum ResponseOutcome: Sendable, Equatable {
    case applied
    /// The ce_id was applied before: nothing done.
    case duplicate
    case unknownTask
    /// The task exists but belongs to another agency than the topic's.
    case foreignTask
    case rejected(TaskRejection)
    case conflict(String)
    /// The database refused it for good; the reason is the server's message.
    case refused(String)
}

extension TaskStore {
    /// Applies a Kafka response in one transaction with its deduplication record.
    public func apply(_ response: AgencyResponse) async throws -> ResponseOutcome {
        try await apply([response])[0]
    }

    /// Applies responses in order in one shared transaction (one commit for the batch), each with its
    /// deduplication record. If the shared transaction fails as a whole (a concurrent duplicate, a
    /// constraint), every response is retried in a transaction of its own, so one cannot fail the others.
    public func apply(_ responses: [AgencyResponse]) async throws -> [ResponseOutcome] {
        if responses.isEmpty { return [] }
        do {
            return try await client.withTransaction { connection in
                var outcomes: [ResponseOutcome] = []
                for response in responses { outcomes.append(try await apply(response, on: connection)) }
                return outcomes
            }
        } catch let error as PostgresError where !error.isConnectionFailure && responses.count > 1 {
            var outcomes: [ResponseOutcome] = []
            for response in responses { outcomes.append(try await apply([response])[0]) }
            return outcomes
        } catch let error as PostgresError where error.constraint == "tasks_one_open_per_agency" {
            return [.conflict("that agency already holds an open task on this finding")]
        } catch let error as PostgresError where error.constraint == "applied_responses_pkey" {
            return [.duplicate]
        } catch let error as PostgresError where Self.isPermanent(error) {
            // The database refuses this response for good (e.g. a NUL byte in a text field): retrying would stall the partition.
            return [.refused(error.message)]
        }
    }

    /// Errors that will not go away by retrying: not a lost connection, an exhausted pool, a deadlock or a serialization failure.
    static func isPermanent(_ error: PostgresError) -> Bool {
        switch error.kind {
        case .connection, .poolTimeout, .poolClosed: return false
        default: return !error.isConnectionFailure && !["40001", "40P01", "57014", "57P01", "57P02", "57P03"].contains(error.sqlState ?? "")
        }
    }

    private func apply(_ response: AgencyResponse, on connection: PostgresConnection) async throws -> ResponseOutcome {
        let check = try await connection.query(
            """
            SELECT (SELECT agency_code FROM tasks WHERE id = \(response.taskID)),
                   EXISTS (SELECT 1 FROM applied_responses WHERE agency_code = \(response.agency.rawValue) AND ce_id = \(response.ceID))
            """)[0]
        let (holder, seen) = try check.decode((String?, Bool).self)
        if seen { return .duplicate }
        guard let holder else { return .unknownTask }
        guard holder == response.agency.rawValue else { return .foreignTask }
        let performed = try await perform(
            response.action, on: response.taskID, by: .agency(response.agency), actorName: "agency:\(response.agency)", policy: .default,
            eventKind: nil, connection: connection)
        switch performed {
        case .applied:
            try await connection.execute(
                """
                INSERT INTO applied_responses (agency_code, ce_id, ce_type, task_id, kafka_topic, kafka_partition, kafka_offset)
                VALUES (\(response.agency.rawValue), \(response.ceID), \(response.ceType), \(response.taskID), \(response.topic),
                        \(Int(response.partition)), \(response.offset))
                """)
            return .applied
        case .notFound: return .unknownTask
        case .rejected(let rejection): return .rejected(rejection)
        case .conflict(let detail): return .conflict(detail)
        }
    }
}
