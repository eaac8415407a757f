import Foundation

/// What a named officer is to their party, for who hears what (docs/notifications.md).
public enum PersonRole: String, Sendable, Hashable, Codable, CaseIterable {
    case officer
    case head
    case deputyHead = "deputy-head"
    case dutyOfficer = "duty-officer"
}

/// A named officer of a newsroom or an agency, as an admin adds or replaces them:
/// `{"party_kind": "agency", "party": "so-nnmt", "name": "…", "email": "…", "webhook_url": "…"?,
/// "role": "head", "language": "vi"}`. A name goes into message headers, so it holds no control
/// character; an address is a plain `local@domain` with no quoting, comments or IP literals.
public struct PersonSubmission: Sendable, Hashable {
    public enum PartyKind: String, Sendable, Hashable, Codable, CaseIterable { case agency, newsroom }

    public var partyKind: PartyKind
    public var party: PartyCode
    public var name: String
    public var email: String
    public var webhookURL: String?
    public var role: PersonRole
    public var language: String

    public static let fields: Set<String> = ["party_kind", "party", "name", "email", "webhook_url", "role", "language"]
    public static let languages = ["vi", "en"]

    public static func parse(_ value: JSONValue) throws(ValidationFailure) -> PersonSubmission {
        var reader = FieldReader(object: value, allowed: fields)
        let kind = reader.string("party_kind").flatMap { text -> PartyKind? in
            guard let kind = PartyKind(rawValue: text) else {
                reader.fail("party_kind", "must be agency or newsroom")
                return nil
            }
            return kind
        }
        let party = reader.code("party")
        let name = reader.text("name", length: 1...200)
        let email = reader.string("email").flatMap { text -> String? in
            if let problem = EmailAddress.problem(text) {
                reader.fail("email", problem)
                return nil
            }
            return text.lowercased()
        }
        let webhook = reader.string("webhook_url", required: false).flatMap { text -> String? in
            if let problem = WebhookURL.problem(text) {
                reader.fail("webhook_url", problem)
                return nil
            }
            return text
        }
        let role = reader.string("role").flatMap { text -> PersonRole? in
            guard let role = PersonRole(rawValue: text) else {
                reader.fail("role", "must be one of: \(PersonRole.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            return role
        }
        let language = reader.string("language", required: false) ?? "vi"
        if !languages.contains(language) { reader.fail("language", "must be vi or en") }
        guard reader.errors.isEmpty, let kind, let party, let name, let email, let role else { throw ValidationFailure(reader.errors) }
        return PersonSubmission(
            partyKind: kind, party: party, name: name, email: email, webhookURL: webhook, role: role, language: language)
    }
}

/// The plain form of an e-mail address that tipwire sends to (RFC 5321's dot-atom local part and a
/// host name): anything else is refused when a person is added, never found out at sending time.
public enum EmailAddress {
    static let localCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-.")
    static let labelCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")

    /// Why `text` is not such an address, or nil.
    public static func problem(_ text: String) -> String? {
        guard text.utf8.count <= 254 else { return "must be at most 254 characters" }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return "must be one address, local@domain" }
        let (local, domain) = (parts[0], parts[1])
        guard (1...64).contains(local.count), local.allSatisfy(localCharacters.contains), local.first != ".", local.last != ".",
            !local.contains("..")
        else { return "must have a plain local part before @ (letters, digits and !#$%&'*+/=?^_`{|}~.-, at most 64)" }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2,
            labels.allSatisfy({ (1...63).contains($0.count) && $0.allSatisfy(labelCharacters.contains) && $0.first != "-" && $0.last != "-" }),
            labels.last?.allSatisfy(\.isNumber) == false
        else { return "must have a domain name after @ (e.g. ubnd-cau-giay.hanoi.gov.vn)" }
        return nil
    }
}

/// Where a person's signed webhook goes: an absolute http or https address with a host, nothing else.
public enum WebhookURL {
    public static func problem(_ text: String) -> String? {
        guard text.utf8.count <= 2000 else { return "must be at most 2000 characters" }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            return "must be an absolute address"
        }
        guard scheme == "https" || scheme == "http" else { return "must be an http or https address, not \(scheme)" }
        guard let host = components.host, !host.isEmpty else { return "must name a host" }
        guard components.user == nil, components.password == nil else { return "must not carry a user name or password" }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) else {
            return "must not contain spaces or control characters"
        }
        return nil
    }
}
