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

/// Filters for `GET /v1/tasks`.
public struct TaskFilter: Sendable {
    public var agency: PartyCode?
    public var state: TaskState?
    public var category: String?
    /// Only tasks still waiting on their agency (not resolved, declined, transferred or closed).
    public var openOnly: Bool
    public var after: PageCursor?
    public var limit: Int

    public init(
        agency: PartyCode? = nil, state: TaskState? = nil, category: String? = nil, openOnly: Bool = false, after: PageCursor? = nil, limit: Int = 20
    ) {
        self.agency = agency
        self.state = state
        self.openOnly = openOnly
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

extension TaskStore {
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
        var views = [try TaskView(row: row)]
        try await DutyStore.attachDue(to: &views, at: Date(), on: connection)
        let task = views[0]
        let (title, newsroom, category, jurisdiction) = (
            try row.decode(column: 11, as: String.self), try code(try row.decode(column: 12, as: String.self)),
            try row.decode(column: 13, as: String.self), try code(try row.decode(column: 14, as: String.self))
        )
        guard let state = TaskState(rawValue: task.state) else { throw CorruptRow(description: "task \(taskID) has unknown state \(task.state)") }
        let snapshot = TaskSnapshot(state: state, agency: task.agency, newsroom: newsroom, extensions: task.extensions)
        guard actor.canSee(snapshot) else { return nil }
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
        return try await client.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: TaskView.columns) FROM tasks t JOIN findings f ON f.id = t.finding_id
                WHERE (\(agency)::text IS NULL OR t.agency_code = \(agency))
                  AND (\(filter.state?.rawValue)::text IS NULL OR t.state = \(filter.state?.rawValue))
                  AND (\(filter.category)::text IS NULL OR f.category_code = \(filter.category))
                  AND (NOT \(filter.openOnly)::boolean OR t.state NOT IN ('resolved', 'declined', 'transferred', 'closed'))
                  AND (\(filter.after?.time)::timestamptz IS NULL OR (t.assigned_at, t.id) < (\(filter.after?.time), \(filter.after?.id)))
                ORDER BY t.assigned_at DESC, t.id DESC LIMIT \(limit + 1)
                """)
            var tasks = try rows.map(TaskView.init(row:))
            try await DutyStore.attachDue(to: &tasks, at: Date(), on: connection)
            return Page(rows: tasks, limit: limit) { ($0.assignedAt, $0.id) }
        }
    }
}

extension TaskStore {
    /// Where a task without a running clock of its own (one waiting on the newsroom's answer) sorts in the
    /// inbox: after every due one.
    static let inboxNoDue = Date(timeIntervalSince1970: 253_402_214_400)  // 9999-12-31

    /// An agency's open tasks, the one due soonest first, so the overdue ones lead: ordered by the due time
    /// of the task's running acknowledge or resolve clock, then the tasks whose clock is paused.
    public func inbox(agency: PartyCode, after cursor: PageCursor?, limit: Int = 50) async throws -> Page<InboxItem> {
        let limit = min(max(limit, 1), 100)
        return try await client.withConnection { connection in
            let rows = try await connection.query(
                """
                SELECT \(unescaped: TaskView.columns), coalesce(o.due_at, \(Self.inboxNoDue)) AS sort_due, f.title
                FROM tasks t JOIN findings f ON f.id = t.finding_id
                LEFT JOIN LATERAL (
                    SELECT d.due_at FROM deadlines d
                    WHERE d.task_id = t.id AND d.state = 'running' AND d.stage IN ('acknowledge', 'resolve') ORDER BY d.due_at LIMIT 1
                ) o ON true
                WHERE t.agency_code = \(agency.rawValue) AND t.state <> ALL(\(Array(TaskView.terminalStates))::text[])
                  AND (\(cursor?.time)::timestamptz IS NULL
                       OR (coalesce(o.due_at, \(Self.inboxNoDue)), t.id) > (\(cursor?.time), \(cursor?.id)))
                ORDER BY sort_due, t.id LIMIT \(limit + 1)
                """)
            var tasks: [TaskView] = []
            var sorting: [(due: Date, title: String)] = []
            for row in rows {
                tasks.append(try TaskView(row: row))
                sorting.append((try row.decode(column: 11, as: Date.self), try row.decode(column: 12, as: String.self)))
            }
            try await DutyStore.attachDue(to: &tasks, at: Date(), on: connection)
            let items = zip(tasks, sorting).map { InboxItem(task: $0, findingTitle: $1.title, sortDue: $1.due) }
            return Page(rows: items, limit: limit) { ($0.sortDue, $0.task.id) }
        }
    }
}

/// A task in an agency's inbox, with its finding's headline.
public struct InboxItem: Sendable, Codable {
    public var task: TaskView
    public var findingTitle: String
    /// The due time it is sorted by (`TaskStore.inboxNoDue` without a running clock).
    public var sortDue: Date

    enum CodingKeys: String, CodingKey {
        case task
        case findingTitle = "finding_title"
        case sortDue = "sort_due"
    }
}
