import Foundation
import Testing
import TipwireCore

/// `TipwireJSON.encode` must write exactly what Foundation's `JSONEncoder` wrote before it, configured
/// as tipwire configured it: stored answers are replayed byte for byte, and consumers see no change.
@Suite("JSON encoding: byte for byte Foundation's, sorted keys")
struct SortedJSONEncoderTests {
    private static func foundation(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(formatTimestamp(date))
        }
        return Array(try encoder.encode(value))
    }

    private static func expectSame(_ value: some Encodable, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let ours = try TipwireJSON.encode(value)
        let theirs = try foundation(value)
        #expect(
            ours == theirs, "ours \(String(decoding: ours, as: UTF8.self))\ntheirs \(String(decoding: theirs, as: UTF8.self))",
            sourceLocation: sourceLocation)
    }

    private static let everyASCIICharacter = String(decoding: (0..<0x80).map { UInt8($0) }, as: UTF8.self)

    @Test func stringsEscapeExactlyAsFoundationDoes() throws {
        try Self.expectSame([Self.everyASCIICharacter, "\u{80}\u{85}\u{9F}\u{A0}é\u{2028}\u{2029}😀\u{FEFF}", "", "Sai phạm ở Cầu Giấy / Hà Nội"])
        try Self.expectSame("a fragment at the top")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let scalars = (0..<Int.random(in: 0...40, using: &generator)).compactMap { _ in
                Unicode.Scalar(
                    Bool.random(using: &generator)
                        ? UInt32.random(in: 0..<0x80, using: &generator) : UInt32.random(in: 0..<0x11_0000, using: &generator))
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            try Self.expectSame([text: text])
        }
    }

    @Test func keysSortByTheirBytesAtEveryDepth() throws {
        let keys = ["a_b", "ab", "a1", "a10", "a2", "B", "a", "A", "_", "b", "é", "a-b", "Ab", "aB", "\u{1}", "z\"", "ẞ", "😀"]
        let flat = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, $0) })
        try Self.expectSame(flat)
        try Self.expectSame(["outer": ["b": flat, "a": [:]]])
        try Self.expectSame(["list": [flat, flat]])
        try Self.expectSame([Int: String]())
        try Self.expectSame([3: "three", 1: "one", 20: "twenty"])
    }

    @Test func numbersAndTheTypesFoundationWritesItsOwnWay() throws {
        try Self.expectSame([
            0.1, 1.0, -0.0, 1e20, 1e-7, 123_456_789.123, 3.0e16, Double.leastNonzeroMagnitude, 2.5e-5, 100.0, 1e16, 1.234_567_890_123_456_7e19,
        ])
        try Self.expectSame([Float(0.1), Float(1.5), Float(100), Float.greatestFiniteMagnitude])
        try Self.expectSame([Int64.min, Int64.max, 0])
        try Self.expectSame([UInt64.max])
        try Self.expectSame([Int8.min])
        try Self.expectSame([UInt8.max])
        try Self.expectSame([Int16.min])
        try Self.expectSame([UInt16.max])
        try Self.expectSame([Int32.min])
        try Self.expectSame([UInt32.max])
        try Self.expectSame([UInt.max])
        try Self.expectSame([URL(string: "https://x.vn/a%20b?q=1")!])
        try Self.expectSame([Data(), Data([1, 2, 3, 250])])
        try Self.expectSame([Decimal(string: "12.50")!, Decimal(0)])
        try Self.expectSame([UUID(uuidString: "6BA7B810-9DAD-11D1-80B4-00C04FD430C8")!])
        try Self.expectSame([Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_790_000_000.9995)])
        try Self.expectSame([true, false])
        try Self.expectSame([Int?.none, 1])
        try Self.expectSame(Int?.none)
    }

    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteNumbersThrowAsFoundationsDo(value: Double) {
        #expect(throws: EncodingError.self) { try TipwireJSON.encode(["x": value]) }
        #expect(throws: EncodingError.self) { try Self.foundation(["x": value]) }
    }

    @Test func everyKindOfContainerAndNull() throws {
        try Self.expectSame(Containers(nilValue: nil, name: "x"))
        try Self.expectSame(Containers(nilValue: 7, name: "y"))
        // At the top, a value that encodes nothing is an error; inside a container, an empty object.
        #expect(throws: EncodingError.self) { try TipwireJSON.encode(Empty()) }
        #expect(throws: EncodingError.self) { try Self.foundation(Empty()) }
        try Self.expectSame([Empty(), Empty()])
    }

    @Test func theEventsAndAnswersOfAFinding() throws {
        let finding = FindingData(
            id: UUID(), newsroom: PartyCode(rawValue: "tuoitre")!, articleURL: "https://tuoitre.vn/a-1.htm", title: "Sai phạm \"đất\" \\ công",
            publishedAt: Date(timeIntervalSince1970: 1_790_000_000.25), summary: "Dòng 1\nDòng 2\tcột", category: "land",
            jurisdiction: PartyCode(rawValue: "cau-giay")!, subjectAgency: PartyCode(rawValue: "so-tnmt"), receivedAt: Date())
        let documents = [
            DocumentClaimCheck(
                id: UUID(), sha256: String(repeating: "ab", count: 32), size: 12_345, mediaType: "application/pdf", url: "https://x/d/1")
        ]
        let tasks = [TaskReference(id: UUID(), agency: PartyCode(rawValue: "so-tnmt")!, routedBy: .rule)]
        try Self.expectSame(finding)
        try Self.expectSame(FindingReceivedData(finding: finding, documents: documents, tasks: tasks))
        try Self.expectSame(
            TaskAssignedData(
                task: tasks[0], assignedAt: Date(), deliverBy: Date().addingTimeInterval(3600), previousTaskID: UUID(), finding: finding,
                documents: documents))
        try Self.expectSame(
            TaskAssignedData(task: tasks[0], assignedAt: Date(), deliverBy: Date(), finding: finding, documents: []))
    }
}

/// Keyed, unkeyed, nested and super encoders, explicit nulls and omitted optionals, in one value.
private struct Containers: Encodable {
    var nilValue: Int?
    var name: String

    enum Keys: String, CodingKey { case a, b, c, d, e, f }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encodeNil(forKey: .a)
        try container.encodeIfPresent(nilValue, forKey: .b)
        var list = container.nestedUnkeyedContainer(forKey: .c)
        try list.encode(1)
        try list.encodeNil()
        var inner = list.nestedContainer(keyedBy: Keys.self)
        try inner.encode(name, forKey: .f)
        var deeper = list.nestedUnkeyedContainer()
        try deeper.encode(2.5)
        try list.encode(["k": [1, 2]])
        var nested = container.nestedContainer(keyedBy: Keys.self, forKey: .d)
        try nested.encode(true, forKey: .a)
        let superEncoder = container.superEncoder()
        var superContainer = superEncoder.singleValueContainer()
        try superContainer.encode("super")
        try container.encode("first", forKey: .f)
        try container.encode("last", forKey: .f)
        let keyedSuper = container.superEncoder(forKey: .e)
        var keyedSuperContainer = keyedSuper.container(keyedBy: Keys.self)
        try keyedSuperContainer.encode(Int64(-3), forKey: .a)
    }
}

private struct Empty: Encodable {
    func encode(to encoder: any Encoder) throws {}
}
