import Foundation

/// Who faces retaliation.
public enum ProtectedPerson: String, Sendable, Hashable, Codable, CaseIterable {
    case source
    case journalist
}

/// What kind of retaliation the case reports.
public enum Retaliation: String, Sendable, Hashable, Codable, CaseIterable {
    case threat
    case harassment
    case dismissal
    case violence
    case other
}

/// How a protection case ended.
public enum ProtectionOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    /// Protective measures were applied.
    case protected
    /// They could not be (the reason says why).
    case notProtected = "not-protected"
    /// The person withdrew the request.
    case withdrawn
}

/// A protection case as a liaison or an agency opens it, checked for everything that needs no database.
/// The person's details, if any, come as an envelope sealed to the newsroom's source key: the server
/// never reads them, and the protecting agency hears them from the newsroom directly.
public struct ProtectionSubmission: Sendable, Hashable {
    public var person: ProtectedPerson
    public var retaliation: Retaliation
    public var jurisdiction: PartyCode
    /// Required when an agency opens the case; a liaison's case is its own newsroom's.
    public var newsroom: PartyCode?
    public var findingID: UUID?
    public var details: SourceEnvelope?

    public static let fields: Set<String> = ["person", "retaliation", "jurisdiction", "newsroom", "finding_id", "details_envelope"]

    public static func parse(_ value: JSONValue) throws(ValidationFailure) -> ProtectionSubmission {
        var reader = FieldReader(object: value, allowed: fields)
        let person = reader.string("person").flatMap { text -> ProtectedPerson? in
            guard let value = ProtectedPerson(rawValue: text) else {
                reader.fail("person", "must be source or journalist")
                return nil
            }
            return value
        }
        let retaliation = reader.string("retaliation").flatMap { text -> Retaliation? in
            guard let value = Retaliation(rawValue: text) else {
                reader.fail("retaliation", "must be one of: \(Retaliation.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            return value
        }
        let jurisdiction = reader.code("jurisdiction")
        let newsroom = reader.code("newsroom", required: false)
        let finding = reader.string("finding_id", required: false).flatMap { text -> UUID? in
            guard let id = UUID(uuidString: text) else {
                reader.fail("finding_id", "must be a finding id (a UUID)")
                return nil
            }
            return id
        }
        var details: SourceEnvelope?
        if let sealed = reader.object("details_envelope") {
            do {
                details = try SourceEnvelope.parse(sealed, path: "details_envelope")
            } catch {
                for problem in error.errors { reader.fail(problem.field, problem.reason) }
            }
        }
        guard reader.errors.isEmpty, let person, let retaliation, let jurisdiction else { throw ValidationFailure(reader.errors) }
        return ProtectionSubmission(
            person: person, retaliation: retaliation, jurisdiction: jurisdiction, newsroom: newsroom, findingID: finding, details: details)
    }

    /// `{"outcome": "protected", "note": "…"}`; the note is required.
    public static func parseResolution(_ value: JSONValue) throws(ValidationFailure) -> (ProtectionOutcome, String) {
        var reader = FieldReader(object: value, allowed: ["outcome", "note"])
        let outcome = reader.string("outcome").flatMap { text -> ProtectionOutcome? in
            guard let value = ProtectionOutcome(rawValue: text) else {
                reader.fail("outcome", "must be one of: \(ProtectionOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            return value
        }
        let note = reader.text("note", length: 1...5000, multiline: true)
        guard reader.errors.isEmpty, let outcome, let note else { throw ValidationFailure(reader.errors) }
        return (outcome, note)
    }
}

public enum ProtectionRouting {
    /// The protecting agency: the rule of the nearest jurisdiction in `lineage` (the case's own first),
    /// else `fallback` (the coordinator).
    public static func protector(lineage: [PartyCode], rules: [PartyCode: PartyCode], fallback: PartyCode?) -> PartyCode? {
        lineage.lazy.compactMap { rules[$0] }.first ?? fallback
    }
}

/// The plan's target, that everyone who reports corruption is protected, as figures.
public struct ProtectionFigure: Sendable, Hashable, Codable {
    public var opened: Int
    public var open: Int
    public var acknowledgedInTime: Int
    public var protected: Int
    public var protectedInTime: Int
    /// Open cases past the due time of the clock now running on them.
    public var overdue: Int

    public init(opened: Int, open: Int, acknowledgedInTime: Int, protected: Int, protectedInTime: Int, overdue: Int) {
        self.opened = opened
        self.open = open
        self.acknowledgedInTime = acknowledgedInTime
        self.protected = protected
        self.protectedInTime = protectedInTime
        self.overdue = overdue
    }

    /// Protected in time, of the cases opened, in percent (100 with none opened: nobody went unprotected).
    public var protectedInTimePercent: Double { opened == 0 ? 100 : (Double(protectedInTime) * 1000 / Double(opened)).rounded() / 10 }

    enum CodingKeys: String, CodingKey {
        case opened, open, protected, overdue
        case acknowledgedInTime = "acknowledged_in_time", protectedInTime = "protected_in_time", protectedInTimePercent = "protected_in_time_percent"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            opened: try container.decode(Int.self, forKey: .opened), open: try container.decode(Int.self, forKey: .open),
            acknowledgedInTime: try container.decode(Int.self, forKey: .acknowledgedInTime),
            protected: try container.decode(Int.self, forKey: .protected),
            protectedInTime: try container.decode(Int.self, forKey: .protectedInTime), overdue: try container.decode(Int.self, forKey: .overdue))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(opened, forKey: .opened)
        try container.encode(open, forKey: .open)
        try container.encode(acknowledgedInTime, forKey: .acknowledgedInTime)
        try container.encode(protected, forKey: .protected)
        try container.encode(protectedInTime, forKey: .protectedInTime)
        try container.encode(overdue, forKey: .overdue)
        try container.encode(protectedInTimePercent, forKey: .protectedInTimePercent)
    }
}
