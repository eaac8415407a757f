import Foundation
import Testing
import TipwireCore

/// A required text made only of spaces, tabs or newlines says nothing: every parser of a required text
/// refuses it by name, as it refuses an empty one.
@Suite("Blank texts")
struct BlankTextTests {
    static let blanks = [" ", "   ", "\n", " \t\n "]

    /// The fields named in the failure `parse` throws for `object`, or none when it parses.
    static func fields(_ parse: (JSONValue) throws -> Void) -> [String] {
        do {
            try parse(.null)
            return []
        } catch let failure as ValidationFailure {
            return failure.errors.map(\.field)
        } catch {
            return ["unexpected \(error)"]
        }
    }

    static func refuses(_ field: String, in object: [String: JSONValue], _ parse: @escaping (JSONValue) throws -> Void) {
        #expect(fields({ _ in try parse(.object(object)) }).isEmpty, "the valid object parses")
        for blank in blanks {
            var bad = object
            bad[field] = .string(blank)
            #expect(fields({ _ in try parse(.object(bad)) }) == [field], "\(field) = \(blank.debugDescription)")
        }
    }

    @Test func everyRequiredTextRefusesBlank() {
        Self.refuses("answer", in: ["answer": .string("Bản đồ đính kèm")]) { _ = try RequestReply.parse($0, declined: false) }
        Self.refuses("reason", in: ["reason": .string("Không có tài liệu")]) { _ = try RequestReply.parse($0, declined: true) }
        Self.refuses("question", in: ["question": .string("Đến đâu rồi?")]) { _ = try QuestionSubmission.parse($0) }
        Self.refuses("reason", in: ["decision": .string("contest"), "reason": .string("Không đủ căn cứ")]) {
            _ = try DisclosureDecision.parse($0)
        }
        Self.refuses("note", in: ["outcome": .string("protected"), "note": .string("Đã bố trí bảo vệ")]) {
            _ = try ProtectionSubmission.parseResolution($0)
        }
        let finding: [String: JSONValue] = [
            "article_url": .string("https://tuoitre.vn/a.htm"), "title": .string("Đất công"), "published_at": .string("2026-11-20T08:30:00+07:00"),
            "summary": .string("Sai mục đích."), "category": .string("land"), "jurisdiction": .string("cau-giay"),
        ]
        let now = Date(timeIntervalSince1970: 1_795_600_000)
        for field in ["title", "summary"] {
            Self.refuses(field, in: finding) { _ = try FindingSubmission.parse($0, now: now) }
        }
    }

    @Test func anOptionalTextMayStillBeEmpty() {
        var reader = FieldReader(object: .object(["note": .string("")]), allowed: ["note"])
        #expect(reader.text("note", length: 0...100) == "")
        #expect(reader.errors.isEmpty)
    }
}
