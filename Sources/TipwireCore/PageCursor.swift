import Foundation

/// An opaque position in a list ordered by (time DESC, id DESC): the last item a page returned.
public struct PageCursor: Sendable, Hashable {
    public var time: Date
    public var id: UUID

    public init(time: Date, id: UUID) {
        self.time = time
        self.id = id
    }

    /// Microseconds since 1970 and the id, base64url-encoded.
    public var token: String {
        let micros = Int64((TimestampRange.clamp(time).timeIntervalSince1970 * 1_000_000).rounded())
        return Base64URL.encode(Array("\(micros)/\(id.lowercased)".utf8))
    }

    public init?(token: String) {
        guard token.utf8.count <= 200, let bytes = Base64URL.decode(token) else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: "/")
        guard parts.count == 2, let micros = Int64(parts[0]), let id = UUID(uuidString: String(parts[1])) else { return nil }
        let time = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
        // A cursor this API wrote holds a stored time; anything outside the supported years was made up.
        guard TimestampRange.contains(time) else { return nil }
        self.time = time
        self.id = id
    }
}

/// An opaque position in a list ordered by a growing number, newest first (the audit log): the last row a page returned.
public struct SequenceCursor: Sendable, Hashable {
    public var id: Int64

    public init(id: Int64) { self.id = id }

    public var token: String { Base64URL.encode(Array("seq/\(id)".utf8)) }

    public init?(token: String) {
        guard token.utf8.count <= 100, let bytes = Base64URL.decode(token) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasPrefix("seq/"), let id = Int64(text.dropFirst(4)), id > 0 else { return nil }
        self.id = id
    }
}
