import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A small deterministic generator (SplitMix64), so a failing case can be replayed from its seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Seeded hostile input: pieces that broke or nearly broke parsers (integer and date extremes, NaN and
/// overflowing numbers, decomposed Vietnamese and combining marks, long emoji clusters, control
/// characters, separators), random scalars and bytes, and JSON built from them.
public struct HostileInput: RandomNumberGenerator, Sendable {
    private var generator: SeededGenerator

    public init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    public mutating func next() -> UInt64 { generator.next() }

    public static let pieces: [String] = [
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551616", "0", "-0", "-1", "1e400", "-1e400",
        "NaN", "nan", "Infinity", "-Infinity", "1e-400", "0.1", "4.9e-324", "1.7976931348623157e308", "253402300800000000",
        "-62135596800000001", "99999-12-31T23:59:59Z", "0000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "+275760-09-13T00:00:00Z",
        "2026-02-30T25:61:61+25:00", "2026-11-20T08:30:00+07:00", "2026-11-20T08:30:00.123456789Z", "1970-01-01T00:00:00Z",
        "H\u{0061}\u{0300} N\u{006F}\u{0323}\u{0302}i", "\u{0301}\u{0301}\u{0301}", "👨‍👩‍👧‍👦", "🏳️‍🌈", "\u{1F1FB}\u{1F1F3}",
        "\u{0}", "\u{7}", "\u{1B}[31m", "\u{FEFF}", "\u{202E}", "\u{D7FF}", "\u{FFFD}", "\u{10FFFF}", "/", "//", "=", "%00", "%", "\\",
        "\"", "'", "{", "}", "[", "]", ":", ",", " ", "\n", "\r\n", "\t", "tw_", "src_", "bytes=", "a", "Z", "-", "_",
        "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "cau-giay", "land", "so-nnmt", "ubnd-cau-giay",
        String(repeating: "a", count: 300), String(repeating: "\u{0065}\u{0301}", count: 200),
    ]

    /// Field names of tipwire's bodies and Kafka payloads, so generated objects reach the field checks.
    public static let keys = [
        "title", "summary", "article_url", "published_at", "category", "jurisdiction", "subject_agency", "document_ids", "days", "reason", "note",
        "questions", "documents_wanted", "agency", "outcome", "answer", "amount", "unit", "task_id", "request_id",
    ]

    public mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &self) }
    public mutating func chance(_ percent: Int) -> Bool { int(0..<100) < percent }
    public mutating func piece() -> String { Self.pieces[int(0..<Self.pieces.count)] }

    /// A string of up to `parts` pieces and random scalars.
    public mutating func text(parts: Int = 6) -> String {
        var out = ""
        for _ in 0..<int(0..<(parts + 1)) {
            if chance(70) {
                out += piece()
            } else if let scalar = Unicode.Scalar(UInt32(int(0..<0x11_0000))) {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Random bytes, often invalid UTF-8.
    public mutating func bytes(maximum: Int = 64) -> [UInt8] {
        (0..<int(0..<(maximum + 1))).map { _ in UInt8.random(in: .min ... .max, using: &self) }
    }

    /// A JSON text built from hostile pieces, usually close to valid.
    public mutating func json(depth: Int = 0) -> String {
        switch int(0..<(depth > 4 ? 5 : 8)) {
        case 0: return piece()
        case 1: return "\"\(text())\""
        case 2: return ["true", "false", "null", "1e400", "-0", "9223372036854775808", "1.5", "30"][int(0..<8)]
        case 3: return "\"" + text().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case 4: return "\"\(piece())\""
        case 5, 6:
            let fields = (0..<int(0..<6)).map { _ in
                "\"\(chance(90) ? Self.keys[int(0..<Self.keys.count)] : text(parts: 2))\": \(json(depth: depth + 1))"
            }
            return "{" + fields.joined(separator: ",") + (chance(5) ? "," : "") + "}"
        default:
            return "[" + (0..<int(0..<4)).map { _ in json(depth: depth + 1) }.joined(separator: ",") + "]"
        }
    }

    /// Edge instants: extremes, NaN, infinities, and random ones across and beyond the supported years.
    public mutating func date() -> Date {
        let edges: [Double] = [
            .nan, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 9.3e18, -9.3e18, 9.2e12, -9.2e12, 253_402_300_800,
            -62_135_596_801, 0, 1e15, -1e15,
        ]
        if chance(30) { return Date(timeIntervalSince1970: edges[int(0..<edges.count)]) }
        return Date(timeIntervalSince1970: Double.random(in: -1e13...1e13, using: &self))
    }
}

/// Runs fuzz loops one at a time on a thread of their own, at the lowest CPU priority: a million
/// CPU-bound rounds then neither starve Swift's cooperative pool nor delay the timing-sensitive database
/// and broker tests running beside them. Returns the failures the loop noted.
public enum Fuzz {
    private static let lane = DispatchSemaphore(value: 1)

    public static func run(
        rounds: Int, seed: UInt64, _ body: @escaping @Sendable (_ input: inout HostileInput, _ round: Int, _ failures: inout [String]) -> Void
    ) async -> [String] {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                lane.wait()
                #if canImport(Glibc)
                    // On Linux the nice value is per thread, and 0 names the calling one: only this thread is lowered.
                    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)
                #endif
                var input = HostileInput(seed: seed)
                var failures: [String] = []
                for round in 0..<rounds { body(&input, round, &failures) }
                lane.signal()
                continuation.resume(returning: failures)
            }
            thread.stackSize = 16 << 20
            thread.start()
        }
    }
}
