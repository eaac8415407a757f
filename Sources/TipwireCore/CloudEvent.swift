import Foundation

/// CloudEvents 1.0 attributes in Kafka binary mode, the one codec for every message tipwire writes or reads:
/// each attribute travels in a `ce_<name>` header, the data's media type in `content-type`, the data as
/// the message value. Headers are plain (key, text) pairs here; the Kafka side wraps them.
public struct CloudEventAttributes: Sendable, Hashable {
    public static let specVersion = "1.0"
    public static let jsonContentType = "application/json"

    public var id: String
    public var source: String
    public var type: String
    public var time: Date?
    public var subject: String?
    public var contentType: String

    public init(id: String, source: String, type: String, time: Date? = nil, subject: String? = nil, contentType: String = jsonContentType) {
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.subject = subject
        self.contentType = contentType
    }

    /// The headers, in a fixed order: `ce_specversion`, `ce_id`, `ce_source`, `ce_type`, then `ce_time` and
    /// `ce_subject` when set, then `content-type`.
    public var headers: [(key: String, value: String)] {
        var headers = [("ce_specversion", Self.specVersion), ("ce_id", id), ("ce_source", source), ("ce_type", type)]
        if let time { headers.append(("ce_time", formatTimestamp(time))) }
        if let subject { headers.append(("ce_subject", subject)) }
        headers.append(("content-type", contentType))
        return headers
    }

    /// Reads the attributes through `header` (a key's text, or nil when absent or not UTF-8). Nil when a
    /// required attribute (`ce_id`, `ce_source`, `ce_type`) is missing; a `ce_time` that is no RFC 3339 time
    /// in years 0001–9999 reads as absent.
    public init?(header: (String) -> String?) {
        guard let id = header("ce_id"), let source = header("ce_source"), let type = header("ce_type") else { return nil }
        self.init(
            id: id, source: source, type: type, time: header("ce_time").flatMap(parseTimestamp), subject: header("ce_subject"),
            contentType: header("content-type") ?? Self.jsonContentType)
    }
}
