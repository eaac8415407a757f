import Foundation
import Fuzzing
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTesting
import Postgres
import Testing
import TipwireCore
import TipwireStore

@testable import Kafka
@testable import TipwireAPI
@testable import TipwirePipeline

/// Hostile input at tipwire's edges: query strings, headers, request bodies and Kafka responses. The
/// decoders are driven with generated input (a trap would end the test process); the worst cases then
/// go through the real router and database, where every answer must be a 4xx problem, never a 5xx.
/// The fuzz loops run one at a time at the lowest priority (`Fuzz.run`), so while the whole suite keeps
/// two cores busy the last of them waits minutes for its turn: the limit guards against a hang only.
@Suite("Hostile input at the edges", .timeLimit(.minutes(10)))
struct HostileInputTests {
    /// Bytes of hostile text, percent-encoded for a query string.
    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    @Test func queryParametersAndRangeHeadersNeverTrap() async {
        let failures = await Fuzz.run(rounds: 100_000, seed: 11) { input, round, _ in
            let names = ["cursor", "limit", "received_after", "received_before", "newsroom", "category", "jurisdiction", "state", "agency"]
            var parts: [String] = []
            for _ in 0..<input.int(1..<4) {
                let value = round % 5 == 0 ? Base64URL.encode(Array("\(input.int(Int.min..<Int.max))/\(UUID())".utf8)) : input.text()
                parts.append("\(names[input.int(0..<names.count)])=\(Self.queryValue(value))")
            }
            let uri = URI("/v1/findings?" + parts.joined(separator: "&"))
            var query = QueryReader(uri.queryParameters)
            _ = query.code("newsroom")
            _ = query.timestamp("received_after")
            _ = query.timestamp("received_before")
            _ = query.cursor("cursor")
            _ = query.limit("limit", default: 20, maximum: 100)
            _ = query.oneOf("state", TaskState.allCases.map(\.rawValue))
            _ = ByteRange.parse("bytes=" + input.text(), size: input.int(0..<1_000_000))
        }
        #expect(failures.isEmpty)
    }

    @Test func kafkaResponsesNeverTrap() async {
        let failures = await Fuzz.run(rounds: 150_000, seed: 12) { input, round, _ in
            let types = Array(ResponseTypes.byType.keys) + [ResponseTypes.answer, "vn.tipwire.response.unknown.v1", ""]
            var headers: [KafkaHeader] = []
            if !input.chance(5) { headers.append(KafkaHeader(key: "ce_id", value: input.chance(80) ? Array(UUID().uuidString.utf8) : input.bytes())) }
            if !input.chance(5) { headers.append(KafkaHeader(key: "ce_type", value: types[input.int(0..<types.count)])) }
            if input.chance(30) {
                headers.append(KafkaHeader(key: "ce_source", value: input.chance(50) ? Array("/agencies/so-nnmt".utf8) : input.bytes()))
            }
            if input.chance(10) { headers.append(KafkaHeader(key: input.text(parts: 2), value: nil)) }
            let task = "\"task_id\": \"\(input.chance(70) ? UUID().uuidString : input.piece())\""
            let value: [UInt8] =
                switch round % 4 {
                case 0: Array("{\(task), \"days\": \(input.piece()), \"reason\": \"\(input.piece())\", \"note\": \(input.json(depth: 3))}".utf8)
                case 1: Array(input.json().utf8)
                case 2: input.bytes(maximum: 200)
                default: Array("{\(task), \"request_id\": \"\(UUID())\", \"answer\": \(input.json(depth: 4))}".utf8)
                }
            let topic = input.chance(95) ? "tipwire.responses.so-nnmt" : "tipwire.responses." + input.text(parts: 1)
            let message = KafkaMessage(
                topic: topic, partition: Int32(truncatingIfNeeded: input.next()), offset: Int64(truncatingIfNeeded: input.next()),
                key: input.chance(50) ? input.bytes() : nil, value: value, headers: headers, timestampMilliseconds: nil)
            _ = ResponseConsumer.parse(message)
        }
        #expect(failures.isEmpty)
    }

    /// Every list endpoint with the reported cursor (Int64.max microseconds), dates beyond year 9999 and
    /// absurd limits: 400 problems naming the parameter, and the process still answers.
    @Test func craftedCursorsDatesAndNumbersAnswer400OnEveryList() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let coordinator = fixture.token("coordinator", "thanh-tra-tp")
                let reported = "OTIyMzM3MjAzNjg1NDc3NTgwNy8wMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA"
                let minimum = Base64URL.encode(Array("-9223372036854775808/00000000-0000-0000-0000-000000000000".utf8))
                let cases = [("cursor", reported), ("cursor", minimum), ("limit", "9223372036854775808"), ("limit", "-1")]
                let auditor = fixture.token("auditor")
                let sequence = [
                    ("cursor", Base64URL.encode(Array("seq/9223372036854775808".utf8))), ("cursor", Base64URL.encode(Array("seq/0".utf8))),
                ]
                for path in ["/v1/findings", "/v1/tasks", "/v1/requests", "/v1/escalations", "/v1/overdue", "/v1/audit"] {
                    // The overdue board is one page per group: it takes a limit, no cursor. The audit log pages by sequence number.
                    for (parameter, value) in cases + (path == "/v1/audit" ? sequence : []) where path != "/v1/overdue" || parameter == "limit" {
                        let reply = try await client.send(.get("\(path)?\(parameter)=\(value)", token: path == "/v1/audit" ? auditor : coordinator))
                        #expect(reply.status == .badRequest, "\(path) \(parameter)=\(value): \(reply.status) \(reply.text.prefix(200))")
                        #expect(try reply.problemFields().contains(parameter), "\(path)")
                    }
                }
                for value in ["%2B275760-09-13T00:00:00Z", "99999-01-01T00:00:00Z", "0000-12-31T00:00:00Z", "NaN", "1e400"] {
                    let reply = try await client.send(.get("/v1/findings?received_after=\(value)", token: coordinator))
                    #expect(reply.status == .badRequest, "\(value): \(reply.text.prefix(200))")
                    let audit = try await client.send(.get("/v1/audit?since=\(value)", token: auditor))
                    #expect(audit.status == .badRequest, "audit since=\(value): \(audit.text.prefix(200))")
                }
                #expect(try await client.send(.get("/v1/findings", token: coordinator)).status == .ok)
            }
        }
    }

    /// Decomposed Vietnamese is stored composed; limits are counted as the database counts; NUL bytes,
    /// non-JSON numbers, deep nesting and invalid UTF-8 are 4xx problems; nothing is written by a refusal.
    @Test func hostileBodiesGetProblemsNeverA500() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let liaison = fixture.token("liaison", "tuoitre")
                let decomposed = "\u{0110}a\u{0302}\u{0301}t co\u{0302}ng bi\u{0323} chie\u{0302}\u{0301}m du\u{0323}ng"
                let created = try await client.send(.post("/v1/findings", token: liaison, json: findingJSON(title: decomposed)))
                #expect(created.status == .created, "\(created.text)")
                let stored = try await fixture.client.query("SELECT title, length(title) FROM findings").decode((String, Int).self)
                #expect(
                    stored.map { Array($0.0.unicodeScalars) } == [
                        Array("\u{0110}\u{1EA5}t c\u{00F4}ng b\u{1ECB} chi\u{1EBF}m d\u{1EE5}ng".unicodeScalars)
                    ])
                #expect(stored.first?.1 == 22)

                let before = try await fixture.tableCounts()
                let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
                let cases: [(body: [UInt8], status: HTTPResponse.Status, field: String)] = [
                    (Array(findingJSON(title: String(repeating: "👨‍👩‍👧‍👦", count: 100)).utf8), .unprocessableContent, "title"),
                    (Array(findingJSON(title: String(repeating: "e\u{0301}\u{0302}\u{0303}", count: 200)).utf8), .unprocessableContent, "title"),
                    (Array(findingJSON(title: "NUL \\u0000 inside").utf8), .unprocessableContent, "title"),
                    (Array(findingJSON().replacingOccurrences(of: "\"land\"", with: "1e400").utf8), .badRequest, "body"),
                    (
                        Array(findingJSON().replacingOccurrences(of: "2026-11-20T08:30:00+07:00", with: "+275760-09-13T00:00:00Z").utf8),
                        .unprocessableContent, "published_at"
                    ),
                    (Array(deep.utf8), .badRequest, "body"),
                    (Array(#"{"title": ""#.utf8) + [0xFF, 0xC3, 0x28] + Array(#""}"#.utf8), .badRequest, "body"),
                ]
                for (index, bad) in cases.enumerated() {
                    let reply = try await client.send(
                        Call(
                            method: .post, path: "/v1/findings", token: liaison, body: bad.body,
                            headers: [HTTPField.Name("Idempotency-Key")!: "hostile-\(index)"]))
                    #expect(reply.status == bad.status, "case \(index): \(reply.status) \(reply.text.prefix(300))")
                    #expect(try reply.problemFields().contains(bad.field), "case \(index): \(reply.text.prefix(300))")
                }
                #expect(try await fixture.tableCounts() == before)

                // A ZIP declared as an Office document with a 300-character type is stored as a ZIP.
                let office = "application/vnd.openxmlformats-officedocument." + String(repeating: "x", count: 300)
                let zip = try await client.send(
                    Call(
                        method: .post, path: "/v1/documents", token: liaison, body: [0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0, count: 64),
                        contentType: office))
                #expect(zip.status == .created, "\(zip.text.prefix(300))")
                #expect(try zip.json()["media_type"] as? String == "application/zip")

                // The same limits hold for a task action's text.
                let task = try #require((try created.json()["tasks"] as? [[String: Any]])?.first?["id"] as? String)
                let agency = try #require((try created.json()["tasks"] as? [[String: Any]])?.first?["agency"] as? String)
                for json in [#"{"reason": "x\u0000y"}"#, "{\"reason\": \"\(String(repeating: "🏳️‍🌈", count: 501))\"}"] {
                    let reply = try await client.send(
                        .post("/v1/tasks/\(task)/decline", token: fixture.token("agency", agency), json: json, key: nil))
                    #expect(reply.status == .unprocessableContent, "\(reply.text.prefix(300))")
                    #expect(try reply.problemFields() == ["reason"])
                }
            }
        }
    }

    @Test(arguments: [
        ("findings_title_check", "findings", "title"), ("documents_media_type_check", "documents", "media_type"),
        ("odd_name", "findings", "odd_name"), ("api_tokens_holder_check", nil, "api_tokens_holder"),
    ])
    func aRefusedValueIsNamedByItsConstraint(constraint: String, table: String?, field: String) {
        #expect(StoreFailure.field(fromConstraint: constraint, table: table) == field)
    }

    /// A constraint error logs no row contents.
    @Test func databaseErrorsNeverDescribeRowValues() async throws {
        try await Fixture.with { fixture in
            do {
                let code = "secret-source-name"
                try await fixture.client.execute("INSERT INTO newsrooms (code, name) VALUES (\(code), '')")
                Issue.record("the empty name should break a CHECK")
            } catch let error as PostgresError {
                #expect(error.detail?.contains("secret-source-name") == true)
                #expect(!"\(error)".contains("secret-source-name"))
            }
        }
    }
}
