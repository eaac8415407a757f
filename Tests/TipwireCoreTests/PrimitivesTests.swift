import Foundation
import Testing
import TipwireCore

@Suite("Tokens, media types, cursors, event JSON")
struct PrimitivesTests {
    @Test func tokensAreRandomWellFormedAndHashed() {
        let first = BearerToken(), second = BearerToken()
        #expect(first != second)
        #expect(first.text.hasPrefix("tw_"))
        #expect(first.text.count == 46)
        #expect(BearerToken(first.text) == first)
        #expect(first.sha256.count == 32)
        #expect(first.sha256 != second.sha256)
        #expect("\(first)" == "tw_…")
    }

    @Test(arguments: [
        "", "tw_", "tw_short", "xx_" + String(repeating: "A", count: 43), "tw_" + String(repeating: "!", count: 43),
        "tw_" + String(repeating: "é", count: 43),
    ])
    func malformedTokensAreRefused(text: String) {
        #expect(BearerToken(text) == nil)
    }

    @Test func base64URLDecodesAsFoundationDecodesItsStandardForm() {
        // The oracle: Foundation's decoder on the standard alphabet, padded (with decode's rule that padding
        // is refused when nothing shows the text to be base64url rather than base64).
        func foundation(_ text: String) -> [UInt8]? {
            guard text.utf8.allSatisfy({ $0 < 128 }) else { return nil }
            var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            if !base64.contains("+"), !base64.contains("/"), base64.contains("=") { return nil }
            base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
            return Data(base64Encoded: base64).map(Array.init)
        }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/é ")
        var disagreements: [String] = []
        var texts = [""]
        for _ in 1...3 {  // every text of one to three characters
            texts = texts.flatMap { prefix in alphabet.map { prefix + String($0) } }
            for text in texts where Base64URL.decode(text) != foundation(text) { disagreements.append(text) }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let encoded = Base64URL.encode(bytes)
            if Base64URL.decode(encoded) != bytes { disagreements.append(encoded) }
            var text = String((0..<Int.random(in: 4...60, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            if Bool.random(using: &generator) { text = encoded + text.prefix(2) }
            if Base64URL.decode(text) != foundation(text) { disagreements.append(text) }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(10))")
    }

    @Test func controlCharactersAreRefusedExactlyWhereUnicodeSaysCcOverEveryScalar() {
        var disagreements: [UInt32] = []
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let refused = TextRules.problem(String(scalar), length: 1...10, multiline: false) != nil
            if refused != (scalar.properties.generalCategory == .control) { disagreements.append(value) }
        }
        #expect(disagreements.isEmpty)
        #expect(TextRules.problem("dòng 1\n\tdòng 2\r\n", length: 1...40, multiline: true) == nil)
        #expect(TextRules.problem("dòng 1\n", length: 1...40, multiline: false) != nil)
        #expect(TextRules.problem("a\u{85}b", length: 1...40, multiline: true) != nil)
    }

    @Test(
        arguments: [
            (Array("%PDF-1.7\n".utf8), nil, "application/pdf"),
            ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0], "text/plain", "image/png"),
            ([0xFF, 0xD8, 0xFF, 0xE0], nil, "image/jpeg"),
            (
                Array("PK\u{03}\u{04}rest".utf8), "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            ),
            (Array("PK\u{03}\u{04}rest".utf8), "text/html", "application/zip"),
            (Array("Biên bản làm việc\n".utf8), nil, "text/plain; charset=utf-8"),
            (Array("<!DOCTYPE html><p>x".utf8), "application/pdf", "text/html; charset=utf-8"),
            (Array("a,b\n1,2\n".utf8), "text/csv", "text/csv; charset=utf-8"),
            ([0x00, 0x01, 0x02, 0xFE], "application/pdf", "application/octet-stream"),
            ([], nil, "application/octet-stream"),
        ] as [([UInt8], String?, String)])
    func mediaTypesAreSniffedNotTrusted(bytes: [UInt8], declared: String?, expected: String) {
        #expect(MediaTypeSniffer.sniff(bytes, declared: declared) == expected)
    }

    @Test func cursorsRoundTripAndRejectGarbage() throws {
        let cursor = PageCursor(time: Date(timeIntervalSince1970: 1_795_000_000.123456), id: UUID())
        let parsed = try #require(PageCursor(token: cursor.token))
        #expect(parsed.id == cursor.id)
        #expect(abs(parsed.time.timeIntervalSince(cursor.time)) < 0.000_001)
        #expect(PageCursor(token: "garbage") == nil)
        #expect(PageCursor(token: Base64URL.encode(Array("12/not-a-uuid".utf8))) == nil)
        #expect(PageCursor(token: String(repeating: "A", count: 500)) == nil)
    }

    @Test func eventJSONUsesSnakeCaseLowercaseIDsAndExplicitNulls() throws {
        let id = UUID()
        let finding = FindingData(
            id: id, newsroom: PartyCode(rawValue: "tuoitre")!, articleURL: "https://tuoitre.vn/a", title: "t",
            publishedAt: Date(timeIntervalSince1970: 0), summary: "s", category: "land", jurisdiction: PartyCode(rawValue: "cau-giay")!,
            subjectAgency: nil, receivedAt: Date(timeIntervalSince1970: 1.5))
        let text = String(decoding: try TipwireJSON.encode(finding), as: UTF8.self)
        #expect(text.contains(#""id":"\#(id.uuidString.lowercased())""#))
        #expect(text.contains(#""subject_agency":null"#))
        #expect(text.contains(#""published_at":"1970-01-01T00:00:00.000Z""#))
        #expect(text.contains(#""received_at":"1970-01-01T00:00:01.500Z""#))
        #expect(text.contains(#""article_url":"https://tuoitre.vn/a""#))
    }
}

@Suite("Timestamps")
struct TimestampFormatTests {
    @Test func formattingAgreesWithFoundationsISO8601StyleOver10000RandomInstants() {
        let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        var generator = SystemRandomNumberGenerator()
        var instants = (0..<10_000).map { _ in Date(timeIntervalSince1970: Double.random(in: 0...4_102_444_800, using: &generator)) }
        instants += [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_790_000_000.9995), Date(timeIntervalSince1970: 951_782_400)]
        for instant in instants {
            #expect(formatTimestamp(instant) == instant.formatted(style), "\(instant.timeIntervalSince1970)")
            // Truncation to milliseconds loses under 1 ms; the subtraction of two Dates near 2100 adds up to
            // a few hundred nanoseconds of rounding, so the bound allows one microsecond more.
            #expect(abs(parseTimestamp(formatTimestamp(instant))!.timeIntervalSince(instant)) < 0.001 + 1e-6)
        }
    }
}
