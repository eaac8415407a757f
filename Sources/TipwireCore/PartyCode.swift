/// The code of a newsroom or agency: lowercase letters, digits and `-`, as used in topic names.
///
/// Codes name Kafka topics (`tipwire.tasks.<agency-code>`), so they are
/// restricted to what every Kafka deployment and ACL tool accepts.
import Foundation

public struct PartyCode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    public static let maximumLength = 63

    public init?(rawValue: String) {
        guard Self.validate(rawValue) == nil else { return nil }
        self.rawValue = rawValue
    }

    /// Why `text` is not a valid code, or nil when it is.
    public static func validate(_ text: String) -> String? {
        if text.isEmpty { return "must not be empty" }
        if text.utf8.count > maximumLength { return "must be at most \(maximumLength) characters" }
        if text.first == "-" || text.last == "-" { return "must not start or end with '-'" }
        let allowed = text.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-")
        }
        return allowed ? nil : "may contain only lowercase letters a-z, digits and '-'"
    }

    public var description: String { rawValue }

    /// The form used in environment variable names: `so-nnmt` → `SO_NNMT`.
    public var environmentName: String { rawValue.uppercased().replacingOccurrences(of: "-", with: "_") }
}

/// The Kafka topics tipwire uses (README, "Kafka topics and events").
public enum TopicName {
    public static let escalations = "tipwire.escalations"
    public static let findings = "tipwire.findings"
    /// Responses that name no agency tipwire can tell (a malformed topic name): for operators only.
    public static let unattributedDeadLetters = "tipwire.dlq.responses"

    public static func tasks(_ agency: PartyCode) -> String { "tipwire.tasks.\(agency)" }
    public static func responses(_ agency: PartyCode) -> String { "tipwire.responses.\(agency)" }
    public static func requests(_ newsroom: PartyCode) -> String { "tipwire.requests.\(newsroom)" }
    /// The agency's responses tipwire could not apply, with the reason: the agency may read its own.
    public static func responseDeadLetters(_ agency: PartyCode) -> String { "tipwire.dlq.responses.\(agency)" }
    /// The agency whose response topic `topic` is, or nil for any other topic.
    public static func agency(ofResponses topic: String) -> PartyCode? {
        let prefix = "tipwire.responses."
        guard topic.hasPrefix(prefix) else { return nil }
        return PartyCode(rawValue: String(topic.dropFirst(prefix.count)))
    }

    /// Whether Kafka accepts `name` as a topic: 1 to 249 of ASCII letters, digits, `.`, `_` and `-`.
    public static func isValid(_ name: String) -> Bool {
        (1...249).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                    || byte == UInt8(ascii: "-")
            }
    }

    /// Every agency's response topic, as a consumer subscription pattern.
    public static let allResponsesPattern = "^tipwire\\.responses\\.[a-z0-9-]+$"
}
