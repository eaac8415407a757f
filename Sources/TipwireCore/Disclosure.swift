import Foundation

/// How grave a crime is, in the Criminal Code's four classes (Bộ luật Hình sự 2015, Article 9).
public enum CrimeClass: String, Sendable, Hashable, Codable, CaseIterable {
    case lessSerious = "less-serious"
    case serious
    case verySerious = "very-serious"
    case especiallySerious = "especially-serious"
}

/// The level of government an agency belongs to: central, provincial (Hà Nội is a province-level city),
/// or commune (wards and communes, since the two-tier local government of July 2025).
public enum GovernmentLevel: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    case commune
    case provincial
    case central

    private var rank: Int {
        switch self {
        case .commune: 0
        case .provincial: 1
        case .central: 2
        }
    }

    public static func < (lhs: GovernmentLevel, rhs: GovernmentLevel) -> Bool { lhs.rank < rhs.rank }
}

/// Who an agency is, as far as the law on disclosure cares: its kind (`procuracy`, `court`, `police`, …)
/// and its level.
public struct AgencyStanding: Sendable, Hashable {
    public var code: PartyCode
    public var kind: String
    public var level: GovernmentLevel

    public init(code: PartyCode, kind: String, level: GovernmentLevel) {
        self.code = code
        self.kind = kind
        self.level = level
    }
}

/// A provision under which an official may ask a newsroom to disclose a source: who may ask (agency kinds,
/// at a minimum level), for which crime classes, and while it is in force. Data, not code: a table seeded
/// from the Press Law 2016 and its 2025 amendment, which operators keep current.
public struct LegalBasis: Sendable, Hashable {
    public var code: String
    public var citation: String
    public var requesterKinds: [String]
    public var minimumLevel: GovernmentLevel
    public var crimeClasses: [CrimeClass]
    /// The first day it applies, and the first day it no longer does (nil: still in force), in Hà Nội.
    public var inForceFrom: CalendarDay
    public var inForceUntil: CalendarDay?

    public init(
        code: String, citation: String, requesterKinds: [String], minimumLevel: GovernmentLevel, crimeClasses: [CrimeClass], inForceFrom: CalendarDay,
        inForceUntil: CalendarDay?
    ) {
        self.code = code
        self.citation = citation
        self.requesterKinds = requesterKinds
        self.minimumLevel = minimumLevel
        self.crimeClasses = crimeClasses
        self.inForceFrom = inForceFrom
        self.inForceUntil = inForceUntil
    }

    public func inForce(on day: CalendarDay) -> Bool { day >= inForceFrom && inForceUntil.map { day < $0 } ?? true }

    /// Why `requester` may not ask under this basis for `crimeClass` in a request dated `day`; nil when it may.
    public func refusal(for requester: AgencyStanding, crimeClass: CrimeClass, dated day: CalendarDay) -> String? {
        if !inForce(on: day) {
            let window = "in force from \(inForceFrom)" + (inForceUntil.map { " until \($0) (exclusive)" } ?? "")
            return "\(code) is not in force on \(day), the date of the written request: it is \(window)"
        }
        if !requesterKinds.contains(requester.kind) || requester.level < minimumLevel {
            return "under \(code) only the heads of \(requesterKinds.joined(separator: ", ")) agencies at \(minimumLevel) level or higher may ask;"
                + " \(requester.code) is a \(requester.level)-level \(requester.kind)"
        }
        if !crimeClasses.contains(crimeClass) {
            return "\(code) allows disclosure only for \(crimeClasses.map(\.rawValue).joined(separator: " or ")) crimes, not \(crimeClass.rawValue)"
        }
        return nil
    }
}

/// A disclosure request as an agency files it, checked for everything that needs no database.
public struct DisclosureSubmission: Sendable, Hashable {
    /// As sent: a handle of the wrong shape is simply one that does not exist (404), like any other.
    public var sourceHandle: String
    public var legalBasis: String
    public var crimeClass: CrimeClass
    public var caseReference: String
    public var dated: CalendarDay
    public var writtenRequest: [UInt8]
    public var writtenRequestType: String?

    public static let fields: Set<String> = ["source_handle", "legal_basis", "crime_class", "case_reference", "dated", "written_request"]
    public static let maximumWrittenRequest = 5 * 1_048_576

    /// Parses a body; `today` is Hà Nội's date, which the written request may not be later than.
    public static func parse(_ value: JSONValue, today: CalendarDay) throws(ValidationFailure) -> DisclosureSubmission {
        var reader = FieldReader(object: value, allowed: fields)
        let handle = reader.text("source_handle", length: 1...100)
        let basis = reader.text("legal_basis", length: 1...100)
        let crimeClass = reader.string("crime_class").flatMap { text -> CrimeClass? in
            guard let value = CrimeClass(rawValue: text) else {
                reader.fail("crime_class", "must be one of: \(CrimeClass.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            return value
        }
        let caseReference = reader.text("case_reference", length: 1...200)
        let dated = reader.string("dated").flatMap { text -> CalendarDay? in
            guard let day = CalendarDay(text) else {
                reader.fail("dated", "must be the written request's date, YYYY-MM-DD")
                return nil
            }
            if day > today {
                reader.fail("dated", "must not be later than today (\(today)) in Hà Nội")
                return nil
            }
            return day
        }
        var written: (bytes: [UInt8], type: String?)?
        if let object = reader.object("written_request") {
            var inner = FieldReader(object: object, allowed: ["media_type", "content"])
            let type = inner.text("media_type", required: false, length: 3...255)
            let content = inner.string("content").flatMap { text -> [UInt8]? in
                guard text.utf8.count <= maximumWrittenRequest / 3 * 4 + 8, let bytes = Data(base64Encoded: text).map(Array.init), !bytes.isEmpty
                else {
                    inner.fail("content", "must be the written request's bytes in base64, at most \(maximumWrittenRequest) bytes")
                    return nil
                }
                return bytes
            }
            for problem in inner.errors { reader.fail("written_request.\(problem.field)", problem.reason) }
            if let content { written = (content, type) }
        } else if reader.errors.allSatisfy({ $0.field != "written_request" }) {
            reader.fail("written_request", "is required: the request must be in writing (the scanned, signed letter)")
        }
        guard reader.errors.isEmpty, let handle, let basis, let crimeClass, let caseReference, let dated, let written else {
            throw ValidationFailure(reader.errors)
        }
        return DisclosureSubmission(
            sourceHandle: handle, legalBasis: basis, crimeClass: crimeClass,
            caseReference: caseReference, dated: dated, writtenRequest: written.bytes, writtenRequestType: written.type)
    }
}

/// The newsroom's answer to a disclosure request. The server holds no source to hand over: `comply`
/// records that the newsroom disclosed out of band; nothing is ever disclosed automatically.
public enum DisclosureDecision: String, Sendable, Hashable, Codable, CaseIterable {
    case comply
    case refuse
    case contest

    /// The request's state once decided.
    public var state: String {
        switch self {
        case .comply: "complied"
        case .refuse: "refused"
        case .contest: "contested"
        }
    }

    /// `{"decision": "refuse", "reason": "…"}`; the reason is required for every decision.
    public static func parse(_ value: JSONValue) throws(ValidationFailure) -> (DisclosureDecision, String) {
        var reader = FieldReader(object: value, allowed: ["decision", "reason"])
        let decision = reader.string("decision").flatMap { text -> DisclosureDecision? in
            guard let decision = DisclosureDecision(rawValue: text) else {
                reader.fail("decision", "must be one of: comply, refuse, contest")
                return nil
            }
            return decision
        }
        let reason = reader.text("reason", length: 1...5000, multiline: true)
        guard reader.errors.isEmpty, let decision, let reason else { throw ValidationFailure(reader.errors) }
        return (decision, reason)
    }
}

extension DutyClock {
    /// The rungs of the ladder reached by `now`, in order.
    public func rungsReached(by now: Date, calendar: WorkingCalendar) -> [(rung: Rung, at: Date)] {
        EscalationLadder.rungs.compactMap { rung in
            guard let at = time(ofRung: rung.index, calendar: calendar), at <= now else { return nil }
            return (rung, at)
        }
    }
}
