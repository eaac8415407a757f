import Foundation

/// A finding as a liaison submits it, checked for everything that needs no database.
///
/// Whether the category, jurisdiction, subject agency and documents exist is checked
/// by the store in the same transaction that writes the finding.
public struct FindingSubmission: Sendable, Hashable {
    public var articleURL: String
    public var title: String
    public var publishedAt: Date
    public var summary: String
    public var category: String
    public var jurisdiction: PartyCode
    public var subjectAgency: PartyCode?
    public var documentIDs: [UUID]
    /// The source's details, sealed on the liaison's machine; stored apart, under a handle.
    public var sourceEnvelope: SourceEnvelope?

    public static let fields: Set<String> = [
        "article_url", "title", "published_at", "summary", "category", "jurisdiction", "subject_agency", "document_ids", "source_envelope",
    ]
    public static let maximumDocuments = 100
    /// Clocks differ: a publication time up to this far ahead of ours is accepted.
    public static let clockSkewAllowance: TimeInterval = 300

    public init(
        articleURL: String, title: String, publishedAt: Date, summary: String, category: String, jurisdiction: PartyCode,
        subjectAgency: PartyCode? = nil, documentIDs: [UUID] = [], sourceEnvelope: SourceEnvelope? = nil
    ) {
        self.articleURL = articleURL
        self.title = title
        self.publishedAt = publishedAt
        self.summary = summary
        self.category = category
        self.jurisdiction = jurisdiction
        self.subjectAgency = subjectAgency
        self.documentIDs = documentIDs
        self.sourceEnvelope = sourceEnvelope
    }

    /// Parses and checks a request body. Throws `ValidationFailure` listing every bad field.
    public static func parse(json: some Collection<UInt8>, now: Date) throws(ValidationFailure) -> FindingSubmission {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(json))
        } catch {
            throw ValidationFailure("body", "is not valid JSON")
        }
        return try parse(value, now: now)
    }

    public static func parse(_ value: JSONValue, now: Date) throws(ValidationFailure) -> FindingSubmission {
        var reader = FieldReader(object: value, allowed: fields)
        let url = reader.text("article_url", length: 1...2048).flatMap { checkArticleURL($0, &reader) }
        let title = reader.text("title", length: 1...500)
        let summary = reader.text("summary", length: 1...20_000, multiline: true)
        let publishedAt = reader.string("published_at").flatMap { text -> Date? in
            guard let date = parseTimestamp(text) else {
                reader.fail("published_at", "must be an RFC 3339 date-time with a time zone, e.g. 2026-11-20T08:30:00+07:00")
                return nil
            }
            if date.timeIntervalSince(now) > clockSkewAllowance {
                reader.fail("published_at", "must not be in the future (findings are published before they are forwarded)")
                return nil
            }
            return date
        }
        let category = reader.string("category").flatMap { code -> String? in
            if let problem = PartyCode.validate(code) {
                reader.fail("category", "is not a category code: \(problem)")
                return nil
            }
            return code
        }
        let jurisdiction = reader.code("jurisdiction")
        let subject = reader.code("subject_agency", required: false)
        var documents: [UUID] = []
        if let items = reader.array("document_ids") {
            if items.count > maximumDocuments {
                reader.fail("document_ids", "must list at most \(maximumDocuments) documents (got \(items.count))")
            } else {
                for (index, item) in items.enumerated() {
                    guard case .string(let text) = item, let id = UUID(uuidString: text) else {
                        reader.fail("document_ids[\(index)]", "must be a document id (a UUID)")
                        continue
                    }
                    if documents.contains(id) {
                        reader.fail("document_ids[\(index)]", "repeats document \(text.lowercased())")
                        continue
                    }
                    documents.append(id)
                }
            }
        }
        var envelope: SourceEnvelope?
        if let sealed = reader.object("source_envelope") {
            do {
                envelope = try SourceEnvelope.parse(sealed, path: "source_envelope")
            } catch {
                for problem in error.errors { reader.fail(problem.field, problem.reason) }
            }
        }
        guard reader.errors.isEmpty, let url, let title, let summary, let publishedAt, let category, let jurisdiction else {
            throw ValidationFailure(reader.errors)
        }
        return FindingSubmission(
            articleURL: url, title: title, publishedAt: publishedAt, summary: summary, category: category,
            jurisdiction: jurisdiction, subjectAgency: subject, documentIDs: documents, sourceEnvelope: envelope)
    }

    private static func checkArticleURL(_ text: String, _ reader: inout FieldReader) -> String? {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty, host.contains(".") || host == "localhost",
            !text.contains(where: \.isWhitespace)
        else {
            reader.fail("article_url", "must be an absolute http or https URL of the published article")
            return nil
        }
        return text
    }
}

/// RFC 3339 timestamps, with or without fractional seconds; a time zone is required.
/// Dates outside years 0001 to 9999 are refused (nil), like any other malformed value.
public func parseTimestamp(_ text: String) -> Date? {
    guard text.utf8.count <= 64 else { return nil }
    let date =
        (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        ?? (try? Date(text, strategy: Date.ISO8601FormatStyle()))
    guard let date, TimestampRange.contains(date) else { return nil }
    return date
}

/// RFC 3339 in UTC with milliseconds (`2026-11-26T08:30:00.000Z`), the form tipwire writes: the same
/// text as `Date.ISO8601FormatStyle(includingFractionalSeconds: true)` (a test holds them equal), by
/// arithmetic, since every event carries several and the format style costs microseconds each.
public func formatTimestamp(_ date: Date) -> String {
    // Whole seconds, then the fraction truncated to milliseconds, as the format style does. Dates are
    // clamped to years 0001-9999 first: stored and checked dates always are, and nothing here may trap.
    let time = TimestampRange.clamp(date).timeIntervalSince1970
    let wholeSeconds = time.rounded(.down)
    let millisecond = min(999, Int(((time - wholeSeconds) * 1000).rounded(.down)))
    let seconds = Int64(wholeSeconds)
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let day = CalendarDay(number: Int(days))
    guard (0...9999).contains(day.year) else { return "0001-01-01T00:00:00.000Z" }
    let ofDay = Int(seconds - days * 86_400)
    var bytes = [UInt8](repeating: 0, count: 24)
    func put(_ value: Int, digits: Int, at offset: Int) {
        var value = value
        for index in stride(from: offset + digits - 1, through: offset, by: -1) {
            bytes[index] = UInt8(48 + value % 10)
            value /= 10
        }
    }
    put(day.year, digits: 4, at: 0)
    bytes[4] = UInt8(ascii: "-")
    put(day.month, digits: 2, at: 5)
    bytes[7] = UInt8(ascii: "-")
    put(day.day, digits: 2, at: 8)
    bytes[10] = UInt8(ascii: "T")
    put(ofDay / 3600, digits: 2, at: 11)
    bytes[13] = UInt8(ascii: ":")
    put(ofDay / 60 % 60, digits: 2, at: 14)
    bytes[16] = UInt8(ascii: ":")
    put(ofDay % 60, digits: 2, at: 17)
    bytes[19] = UInt8(ascii: ".")
    put(millisecond, digits: 3, at: 20)
    bytes[23] = UInt8(ascii: "Z")
    return String(decoding: bytes, as: UTF8.self)
}
