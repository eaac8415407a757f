import Foundation
import Testing
import TipwireCore

@Suite("Finding submission checks")
struct FindingSubmissionTests {
    static let now = parseTimestamp("2026-11-25T10:00:00+07:00")!

    static let valid: [String: String] = [
        "article_url": #""https://tuoitre.vn/dat-cong-bi-chiem-dung-2026.htm""#,
        "title": #""Đất công bị chiếm dụng ở Cầu Giấy""#,
        "published_at": #""2026-11-20T08:30:00+07:00""#,
        "summary": #""Một khu đất công bị sử dụng sai mục đích.\nNhiều hộ dân phản ánh.""#,
        "category": #""land""#,
        "jurisdiction": #""cau-giay""#,
    ]

    static func body(_ fields: [String: String]) -> [UInt8] {
        Array(("{" + fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ",") + "}").utf8)
    }

    static func errors(_ fields: [String: String]) -> [FieldError] {
        do {
            _ = try FindingSubmission.parse(json: body(fields), now: now)
            return []
        } catch {
            return error.errors
        }
    }

    @Test func aValidSubmissionParses() throws {
        var fields = Self.valid
        fields["subject_agency"] = #""ubnd-cau-giay""#
        fields["document_ids"] = #"["5f1d7c1e-8a43-4c55-9d65-1b2a7f0e9c11"]"#
        let submission = try FindingSubmission.parse(json: Self.body(fields), now: Self.now)
        #expect(submission.category == "land")
        #expect(submission.jurisdiction.rawValue == "cau-giay")
        #expect(submission.subjectAgency?.rawValue == "ubnd-cau-giay")
        #expect(submission.documentIDs.count == 1)
        #expect(submission.publishedAt == parseTimestamp("2026-11-20T01:30:00Z"))
    }

    @Test(arguments: ["article_url", "title", "published_at", "summary", "category", "jurisdiction"])
    func aMissingFieldIsNamed(field: String) {
        var fields = Self.valid
        fields[field] = nil
        #expect(Self.errors(fields) == [FieldError(field, "is required")])
    }

    @Test(arguments: [
        ("article_url", #""ftp://tuoitre.vn/a""#),
        ("article_url", #""tuoitre.vn/a""#),
        ("article_url", #""https:///nohost""#),
        ("article_url", #""javascript:alert(1)""#),
        ("article_url", #""https://tuoitre.vn/a b""#),
        ("article_url", "42"),
        ("title", #""""#),
        ("title", #""tab\tin title""#),
        ("summary", "null"),
        ("published_at", #""2026-11-20""#),
        ("published_at", #""2026-11-20T08:30:00""#),
        ("published_at", #""yesterday""#),
        ("published_at", #""2026-11-25T11:00:00+07:00""#),
        ("category", #""Land!""#),
        ("jurisdiction", #""Cầu Giấy""#),
        ("subject_agency", #""-bad-""#),
        ("document_ids", #""not-a-list""#),
        ("document_ids[0]", #"["nope"]"#),
        ("document_ids[1]", #"["5f1d7c1e-8a43-4c55-9d65-1b2a7f0e9c11", "5F1D7C1E-8A43-4C55-9D65-1B2A7F0E9C11"]"#),
        ("surprise", "1"),
    ])
    func aBadFieldIsNamed(field: String, value: String) {
        var fields = Self.valid
        fields[field.replacingOccurrences(of: "[0]", with: "").replacingOccurrences(of: "[1]", with: "")] = value
        let errors = Self.errors(fields)
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.field == field, "\(errors)")
    }

    @Test func aTitleTooLongSaysTheLimit() {
        var fields = Self.valid
        fields["title"] = "\"" + String(repeating: "x", count: 501) + "\""
        #expect(Self.errors(fields) == [FieldError("title", "must be at most 500 characters (Unicode code points; got 501)")])
    }

    @Test func tooManyDocumentsAreRefused() {
        var fields = Self.valid
        fields["document_ids"] = "[" + (0...FindingSubmission.maximumDocuments).map { _ in "\"\(UUID().uuidString)\"" }.joined(separator: ",") + "]"
        #expect(Self.errors(fields).map(\.field) == ["document_ids"])
    }

    @Test func everyProblemIsReportedAtOnce() {
        let errors = Self.errors(["title": "1", "category": #""land""#])
        #expect(Set(errors.map(\.field)) == ["article_url", "title", "published_at", "summary", "jurisdiction"])
    }

    @Test(arguments: ["", "{", "[1,2]", "\"text\"", "{\"title\": }", "nul"])
    func malformedBodiesAreRefused(text: String) {
        #expect(throws: ValidationFailure.self) { try FindingSubmission.parse(json: Array(text.utf8), now: Self.now) }
    }

    @Test func aSmallClockSkewIsAccepted() throws {
        var fields = Self.valid
        fields["published_at"] = #""2026-11-25T10:04:00+07:00""#
        #expect(Self.errors(fields).isEmpty)
    }
}
