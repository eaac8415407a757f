import Crypto
import Foundation

/// What a token holder may do: a newsroom's liaison officer submits findings and answers requests, an
/// agency officer works its agency's tasks, the coordinator (the City Inspectorate) sees and reassigns all,
/// an auditor reads the deadline policies, and an admin changes them.
public enum Role: String, Sendable, Codable, CaseIterable {
    case liaison, agency, coordinator, auditor, admin

    /// Whether the role is bound to a newsroom, an agency, or nothing.
    public var scopeKind: ScopeKind {
        switch self {
        case .liaison: .newsroom
        case .agency, .coordinator: .agency
        case .auditor, .admin: .none
        }
    }

    public enum ScopeKind: Sendable { case newsroom, agency, none }
}

/// The authenticated caller: a role and, for liaisons and agencies, the party it acts for.
public struct Principal: Sendable, Hashable {
    public var tokenID: UUID
    public var role: Role
    public var newsroom: PartyCode?
    public var agency: PartyCode?
    /// The officer who holds the token (`Nguyễn Văn A`); empty for tokens made before tokens named one.
    public var holder: String

    public init(tokenID: UUID, role: Role, newsroom: PartyCode? = nil, agency: PartyCode? = nil, holder: String = "") {
        self.tokenID = tokenID
        self.role = role
        self.newsroom = newsroom
        self.agency = agency
        self.holder = holder
    }

    /// How the principal appears as an actor in task events and records: the party and the officer,
    /// `agency:so-nnmt (Nguyễn Văn A)`; `liaison:tuoitre` for a token that names no officer.
    public var actor: String { holder.isEmpty ? account : "\(account) (\(holder))" }

    /// The role and the party it acts for (`agency:so-nnmt`): what its tokens share, e.g. idempotency keys.
    public var account: String {
        if let party = newsroom ?? agency { return "\(role.rawValue):\(party)" }
        return role.rawValue
    }
}

/// An opaque bearer token: `tw_` followed by 32 random bytes in base64url. Only its SHA-256 is stored.
public struct BearerToken: Sendable, Hashable, CustomStringConvertible {
    public let text: String

    public static let prefix = "tw_"

    public init() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        text = Self.prefix + Base64URL.encode(bytes)
    }

    /// Accepts text shaped like a token; the database decides whether it is one.
    public init?(_ text: String) {
        guard text.hasPrefix(Self.prefix), text.utf8.count == Self.prefix.utf8.count + 43,
            Base64URL.decode(String(text.dropFirst(Self.prefix.count))) != nil
        else { return nil }
        self.text = text
    }

    public var sha256: [UInt8] { Array(SHA256.hash(data: Data(text.utf8))) }

    /// Never prints the secret.
    public var description: String { "tw_…" }
}

/// How long a token lives: `90d`, `12h`, `30m`. Every token expires; people rotate theirs.
public enum TokenLifetime {
    public static let `default`: TimeInterval = 90 * 86_400
    public static let maximum: TimeInterval = 730 * 86_400

    /// Seconds, or nil (with `problem` saying why) when `text` is not a lifetime tipwire accepts.
    public static func parse(_ text: String) -> TimeInterval? {
        problem(text) == nil ? seconds(text) : nil
    }

    public static func problem(_ text: String) -> String? {
        guard let seconds = seconds(text) else { return "must be a number followed by d, h or m, e.g. 90d, 12h, 30m" }
        if seconds < 60 { return "must be at least 1m" }
        if seconds > maximum { return "must be at most 730d (two years)" }
        return nil
    }

    private static func seconds(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let amount = Int(text.dropLast()), amount > 0, amount <= 1_000_000 else { return nil }
        switch unit {
        case "d": return TimeInterval(amount) * 86_400
        case "h": return TimeInterval(amount) * 3600
        case "m": return TimeInterval(amount) * 60
        default: return nil
        }
    }
}

/// base64url without padding (RFC 4648 §5).
public enum Base64URL {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> [UInt8]? {
        if let bytes = decodeCanonical(text.utf8) { return bytes }
        guard text.utf8.allSatisfy({ $0 < 128 }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        if base64.contains("+") == false, base64.contains("/") == false, base64.contains("=") { return nil }
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        return Data(base64Encoded: base64).map(Array.init)
    }
}

extension Base64URL {
    /// The alphabet's values by ASCII code; 0xFF for bytes outside it.
    private static let values: [UInt8] = {
        var values = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8.enumerated() {
            values[Int(byte)] = UInt8(value)
        }
        return values
    }()

    /// `text` decoded directly when it is what `encode` writes (the url alphabet, no padding, unused
    /// trailing bits zero), else nil and `decode` takes the general path. Every bearer token is decoded on
    /// every request, and the general path's copies and replacements were a fiftieth of the server's time.
    fileprivate static func decodeCanonical(_ text: String.UTF8View) -> [UInt8]? {
        guard text.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text {
            let value = values[Int(byte)]
            guard value != 0xFF else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        guard accumulator & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}

/// Lower-case hex, for hashes.
public enum Hex {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

public enum Digest {
    public static func sha256(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        return Array(hasher.finalize())
    }
}
