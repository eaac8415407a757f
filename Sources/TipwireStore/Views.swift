import Foundation
import TipwireCore

/// A task as the API shows it.
public struct TaskView: Sendable, Hashable, Codable {
    public var id: String
    public var findingID: String
    public var agency: PartyCode
    public var state: String
    public var routedBy: RoutingReason
    public var previousTaskID: String?
    public var assignedAt: Date
    public var deliverBy: Date
    public var deliveredAt: Date?
    public var extensions: Int
    public var outcome: TaskOutcome?
    /// The agency's open duty on the task and how it stands, where one is running or paused.
    public var due: DueView?

    enum CodingKeys: String, CodingKey {
        case id, agency, state, extensions, outcome, due
        case findingID = "finding_id", routedBy = "routed_by", previousTaskID = "previous_task_id", assignedAt = "assigned_at"
        case deliverBy = "deliver_by", deliveredAt = "delivered_at"
    }

    public init(
        id: String, findingID: String, agency: PartyCode, state: String, routedBy: RoutingReason, previousTaskID: String?, assignedAt: Date,
        deliverBy: Date, deliveredAt: Date?, extensions: Int = 0, outcome: TaskOutcome? = nil
    ) {
        self.id = id
        self.findingID = findingID
        self.agency = agency
        self.state = state
        self.routedBy = routedBy
        self.previousTaskID = previousTaskID
        self.assignedAt = assignedAt
        self.deliverBy = deliverBy
        self.deliveredAt = deliveredAt
        self.extensions = extensions
        self.outcome = outcome
    }

    /// Optional fields are written as null rather than left out, so every response has the same shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(findingID, forKey: .findingID)
        try container.encode(agency, forKey: .agency)
        try container.encode(state, forKey: .state)
        try container.encode(routedBy, forKey: .routedBy)
        try container.encode(previousTaskID, forKey: .previousTaskID)
        try container.encode(assignedAt, forKey: .assignedAt)
        try container.encode(deliverBy, forKey: .deliverBy)
        try container.encode(deliveredAt, forKey: .deliveredAt)
        try container.encode(extensions, forKey: .extensions)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(due, forKey: .due)
    }

    /// Terminal states: the task's duty is discharged.
    public static let terminalStates: Set<String> = ["resolved", "declined", "transferred", "closed"]
}

/// A finding with its documents and tasks, as `POST /v1/findings` and `GET /v1/findings/{id}` return it.
public struct FindingView: Sendable, Hashable, Codable {
    public var finding: FindingData
    public var documents: [DocumentClaimCheck]
    public var tasks: [TaskView]
    /// The handle of the finding's sealed source envelope, if it has one; never the envelope.
    public var sourceHandle: String?

    /// Every task terminal: the finding is accounted for (docs/adr/0003).
    public var accountedFor: Bool { !tasks.isEmpty && tasks.allSatisfy { TaskView.terminalStates.contains($0.state) } }

    enum CodingKeys: String, CodingKey {
        case documents, tasks
        case accountedFor = "accounted_for"
        case sourceHandle = "source_handle"
    }

    public init(finding: FindingData, documents: [DocumentClaimCheck], tasks: [TaskView], sourceHandle: String?) {
        self.finding = finding
        self.documents = documents
        self.tasks = tasks
        self.sourceHandle = sourceHandle
    }

    public init(from decoder: any Decoder) throws {
        finding = try FindingData(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        documents = try container.decode([DocumentClaimCheck].self, forKey: .documents)
        tasks = try container.decode([TaskView].self, forKey: .tasks)
        sourceHandle = try container.decodeIfPresent(String.self, forKey: .sourceHandle)
    }

    /// The finding's fields, flattened, then `source_handle` (null without an envelope), documents, tasks
    /// and `accounted_for`.
    public func encode(to encoder: any Encoder) throws {
        try finding.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sourceHandle, forKey: .sourceHandle)
        try container.encode(documents, forKey: .documents)
        try container.encode(tasks, forKey: .tasks)
        try container.encode(accountedFor, forKey: .accountedFor)
    }
}

/// One page of a list, with the cursor for the next page (null on the last).
public struct Page<Item: Sendable & Codable>: Sendable, Codable {
    public var items: [Item]
    public var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    /// A page from rows fetched with `LIMIT limit + 1`: the extra row, if any, says there is a next page,
    /// which starts after the last item shown (`position` gives its time and id).
    init(rows: [Item], limit: Int, position: (Item) -> (time: Date, id: String)) {
        let items = Array(rows.prefix(limit))
        let last = rows.count > limit ? items.last.map(position) : nil
        self.init(items: items, nextCursor: last.flatMap { last in UUID(uuidString: last.id).map { PageCursor(time: last.time, id: $0).token } })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}
