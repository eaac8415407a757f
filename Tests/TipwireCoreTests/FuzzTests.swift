import Foundation
import Fuzzing
import Testing
import TipwireCore

/// Every decoder of outside input in the domain, driven with generated hostile input. A trap ends the
/// test process, so passing means none of these inputs can stop tipwire. (The HTTP, Kafka and header
/// decoders are driven the same way in `HostileInputTests`.)
@Suite("Hostile input: domain decoders")
struct FuzzTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func cursorsNeverTrapAndOnlyDecodeToSupportedDates() async {
        let micros = ["9223372036854775807", "-9223372036854775808", "253402300800000000", "-62135596800000001", "0", "1795000000000000"]
        let failures = await Fuzz.run(rounds: 200_000, seed: 1) { input, round, failures in
            let token: String
            switch round % 4 {
            case 0: token = input.text()
            case 1: token = Base64URL.encode(Array(input.text().utf8))
            case 2: token = Base64URL.encode(Array("\(micros[input.int(0..<micros.count)])/\(UUID().uuidString)".utf8))
            default: token = Base64URL.encode(Array("\(input.int(Int.min..<Int.max))/\(input.piece())".utf8))
            }
            if let cursor = PageCursor(token: token) {
                if !TimestampRange.contains(cursor.time) || PageCursor(token: cursor.token) == nil { failures.append(token) }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        // The reported cursor: Int64.max microseconds.
        #expect(PageCursor(token: "OTIyMzM3MjAzNjg1NDc3NTgwNy8wMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA") == nil)
    }

    @Test func timestampsNeverTrapAndOnlyParseToSupportedDates() async {
        let failures = await Fuzz.run(rounds: 150_000, seed: 2) { input, _, failures in
            let text = input.chance(50) ? input.piece() + input.text(parts: 2) : input.text()
            if let date = parseTimestamp(text), !TimestampRange.contains(date) { failures.append(text) }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        for text in ["+275760-09-13T00:00:00Z", "99999-12-31T23:59:59Z", "0000-01-01T00:00:00Z"] { #expect(parseTimestamp(text) == nil, "\(text)") }
    }

    @Test func dateArithmeticNeverTrapsOnExtremeInstants() async {
        let failures = await Fuzz.run(rounds: 100_000, seed: 3) { input, _, failures in
            let calendar = WorkingCalendar(holidays: [], workingOverrides: [])
            let date = input.date()
            if formatTimestamp(date).utf8.count != 24 { failures.append("\(date.timeIntervalSince1970)") }
            _ = calendar.isWorkingDay(WorkingCalendar.dayOf(date))
            _ = PageCursor(time: date, id: UUID()).token
            _ = TimestampRange.clamp(date)
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func findingBodiesNeverTrapAndAcceptedTextFitsTheDatabase() async {
        let now = Self.now
        let failures = await Fuzz.run(rounds: 200_000, seed: 4) { input, round, failures in
            let body: String
            if round % 3 == 0 {
                // A valid body with one field replaced by a hostile value.
                let fields = ["article_url", "title", "summary", "published_at", "category", "jurisdiction", "subject_agency", "document_ids"]
                var object: [String: String] = [
                    "article_url": "\"https://tuoitre.vn/a.htm\"", "title": "\"T\"", "summary": "\"S\"",
                    "published_at": "\"2026-11-20T08:30:00+07:00\"",
                    "category": "\"land\"", "jurisdiction": "\"cau-giay\"",
                ]
                object[fields[input.int(0..<fields.count)]] = input.json(depth: 3)
                body = "{" + object.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ",") + "}"
            } else {
                body = input.json()
            }
            let bytes = round % 11 == 0 ? Array(body.utf8) + input.bytes(maximum: 8) : Array(body.utf8)
            if let submission = try? FindingSubmission.parse(json: bytes, now: now) {
                let fits =
                    TextRules.length(submission.title) <= 500 && TextRules.length(submission.summary) <= 20_000
                    && Array(submission.title.unicodeScalars) == Array(TextRules.normalized(submission.title).unicodeScalars)
                    && TimestampRange.contains(submission.publishedAt)
                if !fits { failures.append(body) }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func taskActionsAndPoliciesNeverTrap() async {
        let failures = await Fuzz.run(rounds: 200_000, seed: 5) { input, round, _ in
            let snapshot = TaskSnapshot(
                state: .inProgress, agency: PartyCode(rawValue: "so-nnmt")!, newsroom: PartyCode(rawValue: "tuoitre")!, extensions: 0)
            let value = (try? JSONDecoder().decode(JSONValue.self, from: Data(input.json().utf8))) ?? .string(input.text())
            let name = TaskActionName.allCases[round % TaskActionName.allCases.count]
            if let action = try? TaskAction.parse(name, value, alsoAllowed: ["task_id"]) {
                _ = TaskLifecycle.apply(action, by: .agency(snapshot.agency), to: snapshot)
            }
            if round % 4 == 0 {
                _ = try? DeadlinePolicy.parse(stage: DeadlineStage.allCases[round % DeadlineStage.allCases.count], value, current: nil)
            }
        }
        #expect(failures.isEmpty)
    }

    @Test func tokensCodesAndBase64NeverTrap() async {
        let failures = await Fuzz.run(rounds: 150_000, seed: 6) { input, round, _ in
            let text = round % 2 == 0 ? input.text() : "tw_" + Base64URL.encode(input.bytes(maximum: 40))
            _ = BearerToken(text)
            _ = PartyCode(rawValue: text)
            _ = PartyCode.validate(text)
            _ = Base64URL.decode(text)
            _ = TextRules.problem(text, length: 1...10, multiline: round % 2 == 0)
            _ = TokenLifetime.problem(text)
            _ = MediaTypeSniffer.sniff(input.bytes(maximum: 600), declared: input.chance(50) ? input.text(parts: 2) : nil)
        }
        #expect(failures.isEmpty)
    }

    @Test(arguments: [1_000, 10_000, 100_000])
    func deeplyNestedJSONIsRefusedNotACrash(depth: Int) {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let text = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
            #expect(throws: ValidationFailure.self) { try FindingSubmission.parse(json: Array(text.utf8), now: Self.now) }
        }
    }

    @Test func decomposedVietnameseIsStoredComposedAndCountedAsTheDatabaseCounts() throws {
        let decomposed = "\u{0110}a\u{0302}\u{0301}t co\u{0302}ng bi\u{0323} chie\u{0302}\u{0301}m du\u{0323}ng"  // "Đất công bị chiếm dụng" in NFD
        let body = """
            {"article_url": "https://tuoitre.vn/a.htm", "title": "\(decomposed)", "summary": "x", "published_at": "2026-11-20T08:30:00+07:00",
             "category": "land", "jurisdiction": "cau-giay"}
            """
        let submission = try FindingSubmission.parse(json: Array(body.utf8), now: Self.now)
        // Swift's == compares canonically, so compare code points.
        let composed = "\u{0110}\u{1EA5}t c\u{00F4}ng b\u{1ECB} chi\u{1EBF}m d\u{1EE5}ng"
        #expect(Array(submission.title.unicodeScalars) == Array(composed.unicodeScalars))
        #expect(TextRules.length(submission.title) == 22)
        // 500 family emoji are 500 characters to Swift but 3,500 code points to PostgreSQL: refused here, by name.
        let emoji = String(repeating: "👨‍👩‍👧‍👦", count: 500)
        let long = body.replacingOccurrences(of: decomposed, with: emoji)
        #expect(throws: ValidationFailure([FieldError("title", "must be at most 500 characters (Unicode code points; got 3500)")])) {
            try FindingSubmission.parse(json: Array(long.utf8), now: Self.now)
        }
    }
}

@Suite("Text normalization")
struct TextNormalizationTests {
    @Test func aNULIsKeptSoTheChecksSeeIt() async {
        let text = "Ha\u{0300}\u{0}x"
        #expect(Array(TextRules.normalized(text).unicodeScalars) == ["H", "\u{E0}", "\u{0}", "x"])
        #expect(TextRules.problem(TextRules.normalized(text), length: 1...10, multiline: true) != nil)
    }
}
