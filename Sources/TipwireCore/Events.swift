import Foundation

/// CloudEvents types tipwire produces (README, "Kafka topics and events"). Each has a JSON Schema in `schemas/events/`.
public enum EventType {
    public static let taskAssigned = "vn.tipwire.task.assigned.v1"
    public static let findingReceived = "vn.tipwire.finding.received.v1"
}

/// An event waiting in the outbox: CloudEvents attributes, where it goes, and its JSON `data`.
public struct OutboundEvent: Sendable, Hashable {
    public static let source = "/tipwire"

    public var id: UUID
    public var type: String
    public var subject: String
    public var time: Date
    public var topic: String
    /// The Kafka key: the finding id, so one finding's events stay in order.
    public var key: String
    public var data: [UInt8]
    /// Set on `task.assigned`: the task whose delivery this event records.
    public var deliversTask: UUID?

    public init(
        id: UUID = .timeOrdered(), type: String, subject: String, time: Date, topic: String, key: String, data: [UInt8], deliversTask: UUID? = nil
    ) {
        self.id = id
        self.type = type
        self.subject = subject
        self.time = time
        self.topic = topic
        self.key = key
        self.data = data
        self.deliversTask = deliversTask
    }
}

// MARK: - Event data (snake_case JSON)

public struct FindingData: Codable, Sendable, Hashable {
    public var id: String
    public var newsroom: PartyCode
    public var articleURL: String
    public var title: String
    public var publishedAt: Date
    public var summary: String
    public var category: String
    public var jurisdiction: PartyCode
    public var subjectAgency: PartyCode?
    public var receivedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, newsroom, title, summary, category, jurisdiction
        case articleURL = "article_url", publishedAt = "published_at", subjectAgency = "subject_agency", receivedAt = "received_at"
    }

    public init(
        id: UUID, newsroom: PartyCode, articleURL: String, title: String, publishedAt: Date, summary: String, category: String,
        jurisdiction: PartyCode, subjectAgency: PartyCode?, receivedAt: Date
    ) {
        self.id = id.lowercased
        self.newsroom = newsroom
        self.articleURL = articleURL
        self.title = title
        self.publishedAt = publishedAt
        self.summary = summary
        self.category = category
        self.jurisdiction = jurisdiction
        self.subjectAgency = subjectAgency
        self.receivedAt = receivedAt
    }

    /// `subject_agency` is always present, null when the finding names none.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(newsroom, forKey: .newsroom)
        try container.encode(articleURL, forKey: .articleURL)
        try container.encode(title, forKey: .title)
        try container.encode(publishedAt, forKey: .publishedAt)
        try container.encode(summary, forKey: .summary)
        try container.encode(category, forKey: .category)
        try container.encode(jurisdiction, forKey: .jurisdiction)
        try container.encode(subjectAgency, forKey: .subjectAgency)
        try container.encode(receivedAt, forKey: .receivedAt)
    }
}

/// A claim-check: where to fetch a document and how to verify it. Kafka never carries the bytes.
public struct DocumentClaimCheck: Codable, Sendable, Hashable {
    public var id: String
    public var sha256: String
    public var size: Int
    public var mediaType: String
    public var url: String

    enum CodingKeys: String, CodingKey {
        case id, sha256, size, url
        case mediaType = "media_type"
    }

    public init(id: UUID, sha256: String, size: Int, mediaType: String, url: String) {
        self.id = id.lowercased
        self.sha256 = sha256
        self.size = size
        self.mediaType = mediaType
        self.url = url
    }
}

public struct TaskReference: Codable, Sendable, Hashable {
    public var id: String
    public var agency: PartyCode
    public var routedBy: RoutingReason

    enum CodingKeys: String, CodingKey {
        case id, agency
        case routedBy = "routed_by"
    }

    public init(id: UUID, agency: PartyCode, routedBy: RoutingReason) {
        self.id = id.lowercased
        self.agency = agency
        self.routedBy = routedBy
    }
}

/// `vn.tipwire.task.assigned.v1` on `tipwire.tasks.<agency>`.
public struct TaskAssignedData: Codable, Sendable, Hashable {
    public struct Task: Codable, Sendable, Hashable {
        public var id: String
        public var agency: PartyCode
        public var state: String
        public var routedBy: RoutingReason
        public var assignedAt: Date
        public var previousTaskID: String?

        enum CodingKeys: String, CodingKey {
            case id, agency, state
            case routedBy = "routed_by", assignedAt = "assigned_at", previousTaskID = "previous_task_id"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(agency, forKey: .agency)
            try container.encode(state, forKey: .state)
            try container.encode(routedBy, forKey: .routedBy)
            try container.encode(assignedAt, forKey: .assignedAt)
            try container.encode(previousTaskID, forKey: .previousTaskID)
        }
    }

    public struct Deadline: Codable, Sendable, Hashable {
        public var deliverBy: Date
        public var acknowledgeWithinWorkingDays: Int

        enum CodingKeys: String, CodingKey {
            case deliverBy = "deliver_by", acknowledgeWithinWorkingDays = "acknowledge_within_working_days"
        }
    }

    public var task: Task
    public var finding: FindingData
    public var documents: [DocumentClaimCheck]
    public var deadline: Deadline

    /// `deliverBy` is the task's own; the acknowledge window is the default policy's (docs/adr/0004).
    public init(
        task: TaskReference, assignedAt: Date, deliverBy: Date, previousTaskID: UUID? = nil, finding: FindingData, documents: [DocumentClaimCheck]
    ) {
        self.task = Task(
            id: task.id, agency: task.agency, state: "assigned", routedBy: task.routedBy, assignedAt: assignedAt,
            previousTaskID: previousTaskID?.lowercased)
        self.finding = finding
        self.documents = documents
        self.deadline = Deadline(deliverBy: deliverBy, acknowledgeWithinWorkingDays: DeadlinePolicy.default(for: .acknowledge).amount)
    }
}

/// `vn.tipwire.finding.received.v1` on `tipwire.findings`: what came in and where it went.
public struct FindingReceivedData: Codable, Sendable, Hashable {
    public var finding: FindingData
    public var documents: [DocumentClaimCheck]
    public var tasks: [TaskReference]

    public init(finding: FindingData, documents: [DocumentClaimCheck], tasks: [TaskReference]) {
        self.finding = finding
        self.documents = documents
        self.tasks = tasks
    }
}

/// JSON as tipwire writes it everywhere: RFC 3339 dates with milliseconds, lower-case UUIDs, sorted keys.
public enum TipwireJSON {
    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseTimestamp(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 date-time: \(text)")
            }
            return date
        }
        return decoder
    }

    /// `value` as compact JSON with sorted keys (see `SortedJSONEncoder`).
    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        try SortedJSONEncoder.encode(value)
    }
}

extension UUID {
    /// The lower-case form tipwire uses on the wire and PostgreSQL prints (by table lookup: `uuidString`
    /// formats through snprintf, a measurable cost at the dozen per event the engine writes).
    public var lowercased: String {
        let digits: StaticString = "0123456789abcdef"
        return withUnsafeBytes(of: uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { out in
                var position = 0
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    out[position] = digits.utf8Start[Int(byte >> 4)]
                    out[position + 1] = digits.utf8Start[Int(byte & 0x0F)]
                    position += 2
                }
                return position
            }
        }
    }
}

extension EventType {
    public static let findingUpdate = "vn.tipwire.finding.update.v1"
}

/// `vn.tipwire.finding.update.v1` on `tipwire.requests.<newsroom>`: what became of a newsroom's finding
/// (a task resolved, transferred, declined or closed).
public struct FindingUpdateData: Codable, Sendable, Hashable {
    public struct Task: Codable, Sendable, Hashable {
        public var id: String
        public var agency: PartyCode
        public var state: TaskState
    }

    public var findingID: String
    public var task: Task
    public var action: TaskActionName
    public var outcome: TaskOutcome?
    /// The resolution summary, or the reason for a transfer, decline or close.
    public var text: String
    public var transferredTo: PartyCode?
    public var newTaskID: String?
    public var accountedFor: Bool
    public var at: Date

    enum CodingKeys: String, CodingKey {
        case task, action, outcome, text, at
        case findingID = "finding_id", transferredTo = "transferred_to", newTaskID = "new_task_id", accountedFor = "accounted_for"
    }

    public init(
        findingID: UUID, taskID: UUID, agency: PartyCode, state: TaskState, action: TaskActionName, outcome: TaskOutcome?, text: String,
        transferredTo: PartyCode?, newTaskID: UUID?, accountedFor: Bool, at: Date
    ) {
        self.findingID = findingID.lowercased
        self.task = Task(id: taskID.lowercased, agency: agency, state: state)
        self.action = action
        self.outcome = outcome
        self.text = text
        self.transferredTo = transferredTo
        self.newTaskID = newTaskID?.lowercased
        self.accountedFor = accountedFor
        self.at = at
    }

    /// Optional fields are written as null, so every event has the same shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(findingID, forKey: .findingID)
        try container.encode(task, forKey: .task)
        try container.encode(action, forKey: .action)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(text, forKey: .text)
        try container.encode(transferredTo, forKey: .transferredTo)
        try container.encode(newTaskID, forKey: .newTaskID)
        try container.encode(accountedFor, forKey: .accountedFor)
        try container.encode(at, forKey: .at)
    }
}

extension EventType {
    public static let requestCreated = "vn.tipwire.request.created.v1"
    public static let requestAnswered = "vn.tipwire.request.answered.v1"
}

/// Which way an information request goes.
public enum RequestDirection: String, Sendable, Hashable, Codable {
    /// An agency asks the finding's newsroom (the press's duty to cooperate).
    case toNewsroom = "to-newsroom"
    /// A newsroom asks an agency about its progress (Law on Anti-Corruption 2018 Art. 14).
    case toAgency = "to-agency"
}

/// An information request as events and the API show it.
public struct InfoRequestView: Codable, Sendable, Hashable {
    public var id: String
    public var taskID: String
    public var findingID: String
    public var findingTitle: String
    public var newsroom: PartyCode
    public var agency: PartyCode
    public var direction: RequestDirection
    public var questions: String
    public var documentsWanted: [String]
    public var state: String
    public var dueAt: Date
    public var answer: String?
    public var answerDocuments: [DocumentClaimCheck]
    public var createdAt: Date
    public var answeredAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, newsroom, agency, direction, questions, state, answer
        case taskID = "task_id", findingID = "finding_id", findingTitle = "finding_title", documentsWanted = "documents_wanted", dueAt = "due_at"
        case answerDocuments = "answer_documents", createdAt = "created_at", answeredAt = "answered_at"
    }

    public init(
        id: UUID, taskID: UUID, findingID: UUID, findingTitle: String, newsroom: PartyCode, agency: PartyCode, direction: RequestDirection,
        questions: String, documentsWanted: [String], state: String, dueAt: Date, answer: String?, answerDocuments: [DocumentClaimCheck],
        createdAt: Date, answeredAt: Date?
    ) {
        self.id = id.lowercased
        self.taskID = taskID.lowercased
        self.findingID = findingID.lowercased
        self.findingTitle = findingTitle
        self.newsroom = newsroom
        self.agency = agency
        self.direction = direction
        self.questions = questions
        self.documentsWanted = documentsWanted
        self.state = state
        self.dueAt = dueAt
        self.answer = answer
        self.answerDocuments = answerDocuments
        self.createdAt = createdAt
        self.answeredAt = answeredAt
    }

    /// Optional fields are written as null, so every event and response has the same shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(taskID, forKey: .taskID)
        try container.encode(findingID, forKey: .findingID)
        try container.encode(findingTitle, forKey: .findingTitle)
        try container.encode(newsroom, forKey: .newsroom)
        try container.encode(agency, forKey: .agency)
        try container.encode(direction, forKey: .direction)
        try container.encode(questions, forKey: .questions)
        try container.encode(documentsWanted, forKey: .documentsWanted)
        try container.encode(state, forKey: .state)
        try container.encode(dueAt, forKey: .dueAt)
        try container.encode(answer, forKey: .answer)
        try container.encode(answerDocuments, forKey: .answerDocuments)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(answeredAt, forKey: .answeredAt)
    }
}

/// The responses agencies send on `tipwire.responses.<agency>`, one CloudEvents type per action.
public enum ResponseTypes {
    /// The actions an agency takes over Kafka (the coordinator's and the newsroom's go through the API).
    public static let agencyActions: [TaskActionName] = [.acknowledge, .start, .requestInfo, .extend, .transfer, .decline, .resolve]

    /// `vn.tipwire.response.<action>.v1`
    public static func type(of action: TaskActionName) -> String { "vn.tipwire.response.\(action.rawValue).v1" }

    public static let byType: [String: TaskActionName] = Dictionary(uniqueKeysWithValues: agencyActions.map { (type(of: $0), $0) })

    /// An agency's answer to a newsroom's question: `{"request_id", "answer"}`.
    public static let answer = "vn.tipwire.response.answer.v1"
}
