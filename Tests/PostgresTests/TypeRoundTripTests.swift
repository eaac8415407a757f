import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Type round trips through a real server", .timeLimit(.minutes(2)))
struct TypeRoundTripTests {
    private func roundTrip<Value: PostgresCodable & Equatable>(_ value: Value, as sqlType: String, on client: PostgresClient) async throws -> Value {
        try await client.query("SELECT \(value)::\(unescaped: sqlType)").firstRow!.decode(column: 0, as: Value.self)
    }

    @Test("integers keep their extremes")
    func integers() async throws {
        try await TestDatabase.withSchema { client async throws in
            for value in [Int.min, -1, 0, 1, Int.max] { #expect(try await roundTrip(value, as: "int8", on: client) == value) }
            for value in [Int64.min, Int64.max] { #expect(try await roundTrip(value, as: "int8", on: client) == value) }
            for value in [Int32.min, Int32.max] { #expect(try await roundTrip(value, as: "int4", on: client) == value) }
            for value in [Int16.min, Int16.max] { #expect(try await roundTrip(value, as: "int2", on: client) == value) }
        }
    }

    @Test("text keeps non-ASCII, quotes, empty and very long strings")
    func text() async throws {
        try await TestDatabase.withSchema { client async throws in
            let values = [
                "", "Thanh tra thành phố Hà Nội", "Đống Đa — phường Cầu Giấy", "emoji 🧾🔒", "it's \"quoted\" \\ back",
                String(repeating: "ư", count: 100_000),
            ]
            for value in values { #expect(try await roundTrip(value, as: "text", on: client) == value) }
        }
    }

    @Test("booleans, doubles and decimals")
    func numbers() async throws {
        try await TestDatabase.withSchema { client async throws in
            #expect(try await roundTrip(true, as: "bool", on: client) == true)
            #expect(try await roundTrip(false, as: "bool", on: client) == false)
            for value in [
                0.0, -1.5, 3.141592653589793, Double.greatestFiniteMagnitude, -Double.greatestFiniteMagnitude,
                Double.leastNonzeroMagnitude, .infinity, -.infinity,
            ] {
                #expect(try await roundTrip(value, as: "float8", on: client) == value)
            }
            #expect(try await roundTrip(Double.nan, as: "float8", on: client).isNaN)
            for text in ["0", "-12345678901234567890.123456789", "0.000000000000000000000001", "99999999999999999999999999999999999"] {
                let value = Decimal(string: text)!
                #expect(try await roundTrip(value, as: "numeric", on: client) == value)
            }
        }
    }

    @Test("timestamps keep microseconds, the far past and infinity")
    func dates() async throws {
        try await TestDatabase.withSchema { client async throws in
            let values = [
                Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_780_000_000.123456),
                Date(timeIntervalSince1970: -2_000_000_000.5), Date(timeIntervalSince1970: 253_402_300_799),
                Date.distantFuture, Date.distantPast,
            ]
            for value in values {
                let decoded = try await roundTrip(value, as: "timestamptz", on: client)
                #expect(abs(decoded.timeIntervalSince1970 - value.timeIntervalSince1970) < 0.000_001, "\(value)")
            }
            // A value the server computes in another time zone decodes to the same instant.
            let instant = try await client.query("SELECT '2026-02-13 17:00:00+07'::timestamptz").firstRow!.decode(column: 0, as: Date.self)
            #expect(instant == Date(timeIntervalSince1970: 1_770_976_800))
            let day = try await client.query("SELECT '2026-09-02'::date").firstRow!.decode(column: 0, as: Date.self)
            #expect(day == Date(timeIntervalSince1970: 1_788_307_200))
        }
    }

    @Test("UUIDs, bytea up to 10 MB and JSON")
    func binaryAndStructured() async throws {
        try await TestDatabase.withSchema { client async throws in
            let id = UUID()
            #expect(try await roundTrip(id, as: "uuid", on: client) == id)

            try await client.execute("CREATE TABLE blobs (id int PRIMARY KEY, body bytea NOT NULL)")
            var large = [UInt8](repeating: 0, count: 10 * 1024 * 1024)
            for index in large.indices { large[index] = UInt8(truncatingIfNeeded: index &* 2_654_435_761 >> 13) }
            try await client.execute("INSERT INTO blobs VALUES (1, \(large)), (2, \(Data([0, 1, 2, 255]))), (3, \([UInt8]()))")
            let rows = try await client.query("SELECT body, length(body) FROM blobs ORDER BY id")
            let (body, length) = try rows[0].decode(([UInt8], Int).self)
            #expect(length == large.count)
            #expect(body == large)
            #expect(try rows[1].decode(column: 0, as: Data.self) == Data([0, 1, 2, 255]))
            #expect(try rows[2].decode(column: 0, as: [UInt8].self) == [])

            struct Finding: Codable, Equatable, Sendable {
                var title: String
                var agencies: [String]
                var published: Date
            }
            let finding = Finding(
                title: "Sai phạm đất đai", agencies: ["so-nnmt", "ubnd-cau-giay"], published: Date(timeIntervalSince1970: 1_780_000_000))
            #expect(try await roundTrip(PostgresJSON(finding), as: "jsonb", on: client) == PostgresJSON(finding))
            let viaJSON = try await client.query("SELECT \(PostgresJSON(finding))::json").firstRow!.decode(column: 0, as: PostgresJSON<Finding>.self)
            #expect(viaJSON.value == finding)
        }
    }

    @Test("arrays of every type, with NULL elements and awkward text")
    func arrays() async throws {
        try await TestDatabase.withSchema { client async throws in
            #expect(try await roundTrip([1, 2, 3], as: "int8[]", on: client) == [1, 2, 3])
            #expect(try await roundTrip([Int32.min, Int32.max], as: "int4[]", on: client) == [Int32.min, Int32.max])
            #expect(try await roundTrip([Int](), as: "int8[]", on: client) == [])
            let awkward = ["plain", "with space", "comma,inside", "quote\"d", "back\\slash", "{braces}", "NULL", "", "Hà Nội"]
            #expect(try await roundTrip(awkward, as: "text[]", on: client) == awkward)
            // Quotes and backslashes inside grapheme clusters (after a prepended mark, before a combining one,
            // beside a joiner), compared byte for byte: Swift's == would take canonically equal text as equal.
            let clustered = [
                "\u{600}\"x", "\"\u{301}", "\\\u{301}\\", "👩\u{200D}\"💻", #"{"title":"Sai \"phạm\"","path":"a\\b"}"#, "\"", "\\",
            ]
            #expect(try await roundTrip(clustered, as: "text[]", on: client).map { Array($0.utf8) } == clustered.map { Array($0.utf8) })
            #expect(try await roundTrip([true, false], as: "bool[]", on: client) == [true, false])
            #expect(try await roundTrip([1.5, -2.25], as: "float8[]", on: client) == [1.5, -2.25])
            let ids = [UUID(), UUID()]
            #expect(try await roundTrip(ids, as: "uuid[]", on: client) == ids)
            let dates = [Date(timeIntervalSince1970: 1_000_000.25), Date(timeIntervalSince1970: 2_000_000)]
            #expect(try await roundTrip(dates, as: "timestamptz[]", on: client) == dates)
            let decimals = [Decimal(string: "1.10")!, Decimal(string: "-3")!]
            #expect(try await roundTrip(decimals, as: "numeric[]", on: client) == decimals)
            let blobs = [Data([1, 2]), Data([0xff])]
            #expect(try await roundTrip(blobs, as: "bytea[]", on: client) == blobs)
            let withNulls: [Int?] = [1, nil, 3]
            #expect(try await roundTrip(withNulls, as: "int8[]", on: client) == withNulls)
            let textNulls: [String?] = ["a", nil]
            #expect(try await roundTrip(textNulls, as: "text[]", on: client) == textNulls)
        }
    }

    @Test("NULL decodes as nil for optionals and is a clear error otherwise")
    func nulls() async throws {
        try await TestDatabase.withSchema { client async throws in
            let missing: Int? = nil
            let row = try await client.query("SELECT \(missing)::int8 AS count, \(String?.none as String?)::text AS name").firstRow!
            #expect(try row.decode("count", as: Int?.self) == nil)
            #expect(try row.decode("name", as: String?.self) == nil)
            let error = try #require(throws: PostgresError.self) { try row.decode("count", as: Int.self) }
            #expect(error.kind == .decoding)
            #expect(error.message.contains("count"))
            let present: Int? = 7
            #expect(try await roundTrip(present, as: "int8", on: client) == 7)
            #expect(throws: PostgresError.self) { try row.decode("nope", as: Int.self) }
        }
    }

    @Test("a type mismatch is a decoding error naming the column")
    func mismatch() async throws {
        try await TestDatabase.withSchema { client async throws in
            let row = try await client.query("SELECT 'abc'::text AS label").firstRow!
            let error = try #require(throws: PostgresError.self) { try row.decode("label", as: Int.self) }
            #expect(error.kind == .decoding)
            #expect(error.message.contains("label"))
        }
    }
}
