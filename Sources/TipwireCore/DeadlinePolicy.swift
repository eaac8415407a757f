import Foundation

/// The stages of a duty that have a deadline (docs/adr/0004).
public enum DeadlineStage: String, Sendable, Hashable, Codable, CaseIterable {
    case deliver
    case acknowledge
    case resolve
    /// The length of one extension of the resolve stage.
    case `extension`
    /// A newsroom answers an agency's information request.
    case newsroomAnswer = "newsroom_answer"
    /// An agency answers a newsroom's question.
    case agencyAnswer = "agency_answer"
    /// A newsroom decides on a disclosure request.
    case disclosureDecision = "disclosure_decision"
    /// The protecting agency takes up a protection case.
    case protectionAcknowledge = "protection_acknowledge"
    /// The protecting agency resolves it (from acknowledgement).
    case protectionResolve = "protection_resolve"
}

public enum DeadlineUnit: String, Sendable, Hashable, Codable, CaseIterable {
    case hours
    case days
    case workingDays = "working_days"
}

/// How long one stage may take, and when to remind and escalate.
public struct DeadlinePolicy: Sendable, Hashable, Codable {
    public var category: String?
    public var stage: DeadlineStage
    public var amount: Int
    public var unit: DeadlineUnit
    public var maxExtensions: Int
    public var reminderPercent: Int
    public var ladderStepWorkingDays: Int
    public var legalBasis: String

    enum CodingKeys: String, CodingKey {
        case category, stage, amount, unit
        case maxExtensions = "max_extensions", reminderPercent = "reminder_percent", ladderStepWorkingDays = "ladder_step_working_days"
        case legalBasis = "legal_basis"
    }

    public init(
        category: String? = nil, stage: DeadlineStage, amount: Int, unit: DeadlineUnit, maxExtensions: Int = 0, reminderPercent: Int = 80,
        ladderStepWorkingDays: Int = 2, legalBasis: String = ""
    ) {
        self.category = category
        self.stage = stage
        self.amount = amount
        self.unit = unit
        self.maxExtensions = maxExtensions
        self.reminderPercent = reminderPercent
        self.ladderStepWorkingDays = ladderStepWorkingDays
        self.legalBasis = legalBasis
    }

    /// `category` is written as null for the default, so every policy has the same shape.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(category, forKey: .category)
        try container.encode(stage, forKey: .stage)
        try container.encode(amount, forKey: .amount)
        try container.encode(unit, forKey: .unit)
        try container.encode(maxExtensions, forKey: .maxExtensions)
        try container.encode(reminderPercent, forKey: .reminderPercent)
        try container.encode(ladderStepWorkingDays, forKey: .ladderStepWorkingDays)
        try container.encode(legalBasis, forKey: .legalBasis)
    }

    /// When the stage, started at `start`, falls due.
    public func due(from start: Date, calendar: WorkingCalendar) -> Date {
        switch unit {
        case .hours: start.addingTimeInterval(TimeInterval(amount) * 3600)
        case .days: start.addingTimeInterval(TimeInterval(amount) * 86_400)
        case .workingDays: calendar.adding(workingDays: amount, to: start)
        }
    }

    /// The reminder point: `reminderPercent` of the way from `start` to `due`.
    public func reminder(from start: Date, due: Date) -> Date {
        start.addingTimeInterval(due.timeIntervalSince(start) * Double(reminderPercent) / 100)
    }

    /// `category`'s policy for `stage`: its own if it has one, else the default (nil category).
    public static func lookup(_ policies: [DeadlinePolicy], category: String, stage: DeadlineStage) -> DeadlinePolicy? {
        policies.first { $0.stage == stage && $0.category == category } ?? policies.first { $0.stage == stage && $0.category == nil }
    }

    /// The default for a stage (docs/adr/0004), as the migration seeds it.
    public static func `default`(for stage: DeadlineStage) -> DeadlinePolicy {
        switch stage {
        case .deliver: DeadlinePolicy(stage: .deliver, amount: 1, unit: .hours)
        case .acknowledge: DeadlinePolicy(stage: .acknowledge, amount: 7, unit: .workingDays)
        case .resolve: DeadlinePolicy(stage: .resolve, amount: 30, unit: .days, maxExtensions: 2)
        case .extension: DeadlinePolicy(stage: .extension, amount: 30, unit: .days)
        case .newsroomAnswer: DeadlinePolicy(stage: .newsroomAnswer, amount: 5, unit: .workingDays)
        case .agencyAnswer: DeadlinePolicy(stage: .agencyAnswer, amount: 10, unit: .days)
        case .disclosureDecision: DeadlinePolicy(stage: .disclosureDecision, amount: 5, unit: .workingDays)
        case .protectionAcknowledge: DeadlinePolicy(stage: .protectionAcknowledge, amount: 24, unit: .hours, ladderStepWorkingDays: 1)
        case .protectionResolve: DeadlinePolicy(stage: .protectionResolve, amount: 7, unit: .days, ladderStepWorkingDays: 1)
        }
    }

    /// `category`'s policy for `stage` from `policies`, or the built-in default when the table has none.
    public static func effective(_ policies: [DeadlinePolicy], category: String, stage: DeadlineStage) -> DeadlinePolicy {
        lookup(policies, category: category, stage: stage) ?? .default(for: stage)
    }
}

extension DeadlinePolicy {
    /// Reads an admin's policy for `stage` from its JSON object, naming every bad field. A field left
    /// out keeps `current`'s value (or the built-in default's); `category` null or absent is the default
    /// policy for every category without its own.
    public static func parse(stage: DeadlineStage, _ value: JSONValue, current: DeadlinePolicy?) throws(ValidationFailure) -> DeadlinePolicy {
        var reader = FieldReader(
            object: value, allowed: ["category", "amount", "unit", "max_extensions", "reminder_percent", "ladder_step_working_days", "legal_basis"])
        var policy = current ?? .default(for: stage)
        policy.category = reader.code("category", required: false)?.rawValue
        func bounded(_ name: String, _ range: ClosedRange<Int>, _ fallback: Int) -> Int {
            guard let number = reader.integer(name, required: false) else { return fallback }
            if !range.contains(number) { reader.fail(name, "must be from \(range.lowerBound) to \(range.upperBound)") }
            return number
        }
        policy.amount = bounded("amount", 1...8760, policy.amount)
        policy.maxExtensions = bounded("max_extensions", 0...10, policy.maxExtensions)
        policy.reminderPercent = bounded("reminder_percent", 1...99, policy.reminderPercent)
        policy.ladderStepWorkingDays = bounded("ladder_step_working_days", 1...60, policy.ladderStepWorkingDays)
        if let unit = reader.string("unit", required: false) {
            if let parsed = DeadlineUnit(rawValue: unit) {
                policy.unit = parsed
            } else {
                reader.fail("unit", "must be one of: \(DeadlineUnit.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        if let basis = reader.text("legal_basis", required: false, length: 0...500, multiline: true) { policy.legalBasis = basis }
        if stage == .extension, policy.unit == .hours { reader.fail("unit", "an extension is counted in days or working_days") }
        guard reader.errors.isEmpty else { throw ValidationFailure(reader.errors) }
        return policy
    }
}
