import Foundation

/// Whose duty a clock times: the agency holding a task, or the newsroom asked for information.
public enum DutyHolder: Sendable, Hashable, CustomStringConvertible {
    case agency(PartyCode)
    case newsroom(PartyCode)

    public var kind: String {
        switch self {
        case .agency: "agency"
        case .newsroom: "newsroom"
        }
    }

    public var code: PartyCode {
        switch self {
        case .agency(let code), .newsroom(let code): code
        }
    }

    public init?(kind: String, code: PartyCode) {
        switch kind {
        case "agency": self = .agency(code)
        case "newsroom": self = .newsroom(code)
        default: return nil
        }
    }

    /// Where the holder hears of its own deadlines: an agency's task topic, a newsroom's request topic.
    public var topic: String {
        switch self {
        case .agency(let code): TopicName.tasks(code)
        case .newsroom(let code): TopicName.requests(code)
        }
    }

    public var description: String { "\(kind):\(code)" }
}

/// What a rung of the ladder is.
public enum RungKind: String, Sendable, Hashable, Codable {
    /// To the holder, at the reminder point.
    case reminder
    /// To the holder's head, at the due time.
    case overdue
    /// Beyond the holder, one rung every `stepWorkingDays` working days after the due time.
    case escalation
}

/// One rung of the escalation ladder (docs/adr/0004).
public struct Rung: Sendable, Hashable {
    public var index: Int
    public var kind: RungKind
    /// Who is told: `holder`, `holder-head`, `city-inspectorate`, `city-leadership`.
    public var audience: String

    /// The CloudEvents type the rung is announced with.
    public var eventType: String {
        switch kind {
        case .reminder: EventType.taskReminder
        case .overdue: EventType.taskOverdue
        case .escalation: EventType.escalationRaised
        }
    }

    /// Where the rung is announced: the holder's own topic always; `tipwire.escalations` from the
    /// overdue notice on, for the City Inspectorate.
    public func topics(for holder: DutyHolder) -> [String] {
        kind == .reminder ? [holder.topic] : [holder.topic, TopicName.escalations]
    }
}

/// The escalation ladder: reminder to the holder → overdue notice to the holder's head → escalation
/// to the City Inspectorate → escalation to city leadership.
public enum EscalationLadder {
    public static let rungs: [Rung] = [
        Rung(index: 0, kind: .reminder, audience: "holder"),
        Rung(index: 1, kind: .overdue, audience: "holder-head"),
        Rung(index: 2, kind: .escalation, audience: "city-inspectorate"),
        Rung(index: 3, kind: .escalation, audience: "city-leadership"),
    ]

    public static func rung(_ index: Int) -> Rung? { rungs.indices.contains(index) ? rungs[index] : nil }
}

/// The stages whose clocks the deadline engine runs.
public enum ClockStage: String, Sendable, Hashable, Codable, CaseIterable {
    /// The agency accepts a delivered task (starts at delivery).
    case acknowledge
    /// The agency resolves an acknowledged task (pauses while the newsroom is asked for information).
    case resolve
    /// The newsroom answers an agency's information request.
    case newsroomAnswer = "newsroom_answer"
    /// The agency answers a newsroom's question.
    case agencyAnswer = "agency_answer"

    public var policyStage: DeadlineStage {
        switch self {
        case .acknowledge: .acknowledge
        case .resolve: .resolve
        case .newsroomAnswer: .newsroomAnswer
        case .agencyAnswer: .agencyAnswer
        }
    }
}

/// One running duty: when it started, when it is due, and how its ladder is spaced (copied from the
/// policy when the clock starts, so a later policy change does not move clocks already running).
public struct DutyClock: Sendable, Hashable {
    public var startedAt: Date
    public var dueAt: Date
    public var reminderPercent: Int
    public var stepWorkingDays: Int

    public init(startedAt: Date, dueAt: Date, reminderPercent: Int, stepWorkingDays: Int) {
        self.startedAt = startedAt
        self.dueAt = dueAt
        self.reminderPercent = reminderPercent
        self.stepWorkingDays = stepWorkingDays
    }

    /// A clock for `policy`'s stage started at `start`.
    public init(policy: DeadlinePolicy, start: Date, calendar: WorkingCalendar) {
        self.init(
            startedAt: start, dueAt: policy.due(from: start, calendar: calendar), reminderPercent: policy.reminderPercent,
            stepWorkingDays: policy.ladderStepWorkingDays)
    }

    /// When rung `index` falls due; nil past the ladder's end. Escalations count whole working days
    /// from the day the duty fell due (a due time at midnight closes the day before).
    public func time(ofRung index: Int, calendar: WorkingCalendar) -> Date? {
        guard let rung = EscalationLadder.rung(index) else { return nil }
        switch rung.kind {
        case .reminder:
            return startedAt.addingTimeInterval(dueAt.timeIntervalSince(startedAt) * Double(reminderPercent) / 100)
        case .overdue:
            return dueAt
        case .escalation:
            return calendar.adding(workingDays: stepWorkingDays * (index - 1), to: dueAt.addingTimeInterval(-0.001))
        }
    }

    /// The clock after standing still for `pause`: its start and due time move later by as much, so the
    /// holder gets back exactly the time it waited and the reminder keeps its place in the window.
    public func resumed(after pause: TimeInterval) -> DutyClock {
        var clock = self
        clock.dueAt = dueAt.addingTimeInterval(max(0, pause))
        clock.startedAt = startedAt.addingTimeInterval(max(0, pause))
        return clock
    }

    /// Where the duty stands at `now`, in working days.
    public func status(at now: Date, calendar: WorkingCalendar) -> (remainingWorkingDays: Int, overdueByWorkingDays: Int) {
        if now < dueAt { return (calendar.workingDays(from: now, to: dueAt), 0) }
        return (0, calendar.workingDays(from: dueAt.addingTimeInterval(-0.001), to: now))
    }
}

extension DeadlinePolicy {
    /// `due` moved later by `amount` of this (extension) policy's unit.
    public func extending(_ due: Date, by amount: Int, calendar: WorkingCalendar) -> Date {
        switch unit {
        case .hours: due.addingTimeInterval(TimeInterval(amount) * 3600)
        case .days: due.addingTimeInterval(TimeInterval(amount) * 86_400)
        case .workingDays: calendar.adding(workingDays: amount, to: due.addingTimeInterval(-0.001))
        }
    }

    /// The lifecycle's extension limits from the resolve and extension policies of a category.
    public static func lifecyclePolicy(_ policies: [DeadlinePolicy], category: String) -> LifecyclePolicy {
        LifecyclePolicy(
            maximumExtensions: effective(policies, category: category, stage: .resolve).maxExtensions,
            maximumExtensionDays: effective(policies, category: category, stage: .extension).amount)
    }
}

extension EventType {
    public static let taskReminder = "vn.tipwire.task.reminder.v1"
    public static let taskOverdue = "vn.tipwire.task.overdue.v1"
    public static let escalationRaised = "vn.tipwire.escalation.raised.v1"
}

/// The data of `task.reminder`, `task.overdue` and `escalation.raised`: which duty, whose, how late,
/// and who is told. Never a document or a source; the finding's title and the task's state are in
/// `task.assigned` and the API, not repeated here, so raising a rung reads the clock's row alone.
public struct DeadlineEventData: Codable, Sendable, Hashable {
    public struct Holder: Codable, Sendable, Hashable {
        public var kind: String
        public var code: PartyCode

        public init(kind: String, code: PartyCode) {
            self.kind = kind
            self.code = code
        }
    }

    public struct Task: Codable, Sendable, Hashable {
        public var id: String
        public var agency: PartyCode
    }

    public struct Finding: Codable, Sendable, Hashable {
        public var id: String
        public var newsroom: PartyCode
        public var category: String
    }

    public var escalationID: String
    public var stage: ClockStage
    public var holder: Holder
    public var task: Task
    public var finding: Finding
    public var requestID: String?
    public var rung: Int
    public var kind: RungKind
    public var audience: String
    public var startedAt: Date
    public var dueAt: Date
    /// When the rung fell due by the ladder; `raised_at` is when the engine raised it.
    public var rungAt: Date
    public var raisedAt: Date
    public var remainingWorkingDays: Int
    public var overdueByWorkingDays: Int

    enum CodingKeys: String, CodingKey {
        case stage, holder, task, finding, rung, kind, audience
        case escalationID = "escalation_id", requestID = "request_id", startedAt = "started_at", dueAt = "due_at", rungAt = "rung_at"
        case raisedAt = "raised_at", remainingWorkingDays = "remaining_working_days", overdueByWorkingDays = "overdue_by_working_days"
    }

    public init(
        escalationID: UUID, stage: ClockStage, holder: DutyHolder, task: (id: UUID, agency: PartyCode),
        finding: (id: UUID, newsroom: PartyCode, category: String), requestID: UUID?, rung: Rung, clock: DutyClock, rungAt: Date,
        raisedAt: Date, calendar: WorkingCalendar
    ) {
        self.escalationID = escalationID.lowercased
        self.stage = stage
        self.holder = Holder(kind: holder.kind, code: holder.code)
        self.task = Task(id: task.id.lowercased, agency: task.agency)
        self.finding = Finding(id: finding.id.lowercased, newsroom: finding.newsroom, category: finding.category)
        self.requestID = requestID?.lowercased
        self.rung = rung.index
        self.kind = rung.kind
        self.audience = rung.audience
        self.startedAt = clock.startedAt
        self.dueAt = clock.dueAt
        self.rungAt = rungAt
        self.raisedAt = raisedAt
        let status = clock.status(at: raisedAt, calendar: calendar)
        self.remainingWorkingDays = status.remainingWorkingDays
        self.overdueByWorkingDays = status.overdueByWorkingDays
    }

    /// `request_id` is always present, null for task clocks.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(escalationID, forKey: .escalationID)
        try container.encode(stage, forKey: .stage)
        try container.encode(holder, forKey: .holder)
        try container.encode(task, forKey: .task)
        try container.encode(finding, forKey: .finding)
        try container.encode(requestID, forKey: .requestID)
        try container.encode(rung, forKey: .rung)
        try container.encode(kind, forKey: .kind)
        try container.encode(audience, forKey: .audience)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(dueAt, forKey: .dueAt)
        try container.encode(rungAt, forKey: .rungAt)
        try container.encode(raisedAt, forKey: .raisedAt)
        try container.encode(remainingWorkingDays, forKey: .remainingWorkingDays)
        try container.encode(overdueByWorkingDays, forKey: .overdueByWorkingDays)
    }
}

extension UUID {
    /// A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids made one after
    /// another sort by time, so an index on them grows at one end instead of at random pages.
    public static func timeOrdered(at time: Date = Date()) -> UUID {
        // Random bits from arc4random_buf (a userspace generator seeded by the kernel): Foundation's `UUID()`
        // opens /dev/urandom for every id on Linux, and a getrandom(2) call per id showed in profiles too.
        var random: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &random) { buffer in buffer.baseAddress.map { arc4random_buf($0, buffer.count) } }
        let (high, low) = random
        var bytes: uuid_t = (
            0, 0, 0, 0, 0, 0, UInt8(truncatingIfNeeded: high >> 8), UInt8(truncatingIfNeeded: high), UInt8(truncatingIfNeeded: low >> 56),
            UInt8(truncatingIfNeeded: low >> 48), UInt8(truncatingIfNeeded: low >> 40), UInt8(truncatingIfNeeded: low >> 32),
            UInt8(truncatingIfNeeded: low >> 24), UInt8(truncatingIfNeeded: low >> 16), UInt8(truncatingIfNeeded: low >> 8),
            UInt8(truncatingIfNeeded: low)
        )
        let milliseconds = UInt64(max(0, TimestampRange.clamp(time).timeIntervalSince1970 * 1000))
        bytes.0 = UInt8(truncatingIfNeeded: milliseconds >> 40)
        bytes.1 = UInt8(truncatingIfNeeded: milliseconds >> 32)
        bytes.2 = UInt8(truncatingIfNeeded: milliseconds >> 24)
        bytes.3 = UInt8(truncatingIfNeeded: milliseconds >> 16)
        bytes.4 = UInt8(truncatingIfNeeded: milliseconds >> 8)
        bytes.5 = UInt8(truncatingIfNeeded: milliseconds)
        bytes.6 = 0x70 | (bytes.6 & 0x0F)
        bytes.8 = 0x80 | (bytes.8 & 0x3F)
        return UUID(uuid: bytes)
    }
}

extension DeadlineEventData {
    /// The event's JSON, byte for byte what `TipwireJSON.encode` writes (sorted keys, no escaped
    /// slashes; a test holds them equal), written directly: the engine encodes one per rung, and
    /// `JSONEncoder` costs about 40 µs an event, most of a 10,000-rung pass's time in Swift.
    public func json() -> [UInt8] {
        var out = JSONWriter()
        out.raw("{\"audience\":"); out.string(audience)
        out.raw(",\"due_at\":"); out.string(formatTimestamp(dueAt))
        out.raw(",\"escalation_id\":"); out.string(escalationID)
        out.raw(",\"finding\":{\"category\":"); out.string(finding.category)
        out.raw(",\"id\":"); out.string(finding.id)
        out.raw(",\"newsroom\":"); out.string(finding.newsroom.rawValue)
        out.raw("},\"holder\":{\"code\":"); out.string(holder.code.rawValue)
        out.raw(",\"kind\":"); out.string(holder.kind)
        out.raw("},\"kind\":"); out.string(kind.rawValue)
        out.raw(",\"overdue_by_working_days\":"); out.raw(String(overdueByWorkingDays))
        out.raw(",\"raised_at\":"); out.string(formatTimestamp(raisedAt))
        out.raw(",\"remaining_working_days\":"); out.raw(String(remainingWorkingDays))
        out.raw(",\"request_id\":")
        if let requestID { out.string(requestID) } else { out.raw("null") }
        out.raw(",\"rung\":"); out.raw(String(rung))
        out.raw(",\"rung_at\":"); out.string(formatTimestamp(rungAt))
        out.raw(",\"stage\":"); out.string(stage.rawValue)
        out.raw(",\"started_at\":"); out.string(formatTimestamp(startedAt))
        out.raw(",\"task\":{\"agency\":"); out.string(task.agency.rawValue)
        out.raw(",\"id\":"); out.string(task.id)
        out.raw("}}")
        return out.bytes
    }
}

/// Appends JSON text, escaping strings as `JSONEncoder` does with `.withoutEscapingSlashes`.
struct JSONWriter {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(640) }

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [92, 92])
            case 0x08: bytes.append(contentsOf: [92, UInt8(ascii: "b")])
            case 0x0C: bytes.append(contentsOf: [92, UInt8(ascii: "f")])
            case 0x0A: bytes.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
