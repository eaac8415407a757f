import Foundation

/// The instants tipwire accepts and stores: years 0001 to 9999. Every date read from outside input is
/// checked against this range, and every conversion of a date into whole numbers clamps into it, so no
/// value from a request, a cursor or a Kafka message can reach a trapping integer conversion.
public enum TimestampRange {
    /// 0001-01-01T00:00:00Z.
    public static let earliest = Date(timeIntervalSince1970: -62_135_596_800)
    /// 9999-12-31T23:59:59.999Z.
    public static let latest = Date(timeIntervalSince1970: 253_402_300_799.999)
    public static let supported = earliest...latest

    /// True for a finite instant within `supported`.
    public static func contains(_ date: Date) -> Bool {
        date.timeIntervalSince1970.isFinite && supported.contains(date)
    }

    /// `date` moved into `supported` (NaN becomes the epoch), for arithmetic that must not trap.
    public static func clamp(_ date: Date) -> Date {
        let time = date.timeIntervalSince1970
        if time.isNaN { return Date(timeIntervalSince1970: 0) }
        return min(max(date, earliest), latest)
    }
}

/// Text as tipwire stores it: NFC-normalized at the edge (a decomposed "Hà Nội" typed on some keyboards
/// is the same text as the composed one) and measured in Unicode code points, exactly as PostgreSQL's
/// `length()` measures the CHECK constraints, so a limit accepted here is accepted by the database.
public enum TextRules {
    /// The canonical composed form (NFC). ASCII is already NFC. Foundation's normalization goes through
    /// C strings on Linux and would cut the text at a NUL, hiding it from the checks that refuse it, so
    /// the pieces between NULs are normalized one by one.
    public static func normalized(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        // Composed Vietnamese (Latin-1, Latin Extended-A and -B, Latin Extended Additional) is NFC as it
        // stands: only a combining mark or a character from another block can change, so the costly
        // Foundation call is kept for those.
        if text.unicodeScalars.allSatisfy({ $0.value < 0x300 || (0x1E00...0x1EFF).contains($0.value) }) { return text }
        if !text.utf8.contains(0) { return text.precomposedStringWithCanonicalMapping }
        return text.split(separator: "\u{0}", omittingEmptySubsequences: false).map { String($0).precomposedStringWithCanonicalMapping }
            .joined(separator: "\u{0}")
    }

    /// The length PostgreSQL's `length()` reports: code points, not grapheme clusters.
    public static func length(_ text: String) -> Int {
        text.unicodeScalars.count
    }

    /// Whether `scalar` is a control character (general category Cc): U+0000–U+001F and U+007F–U+009F, a set
    /// Unicode's stability policy fixes. Compared directly: the property lookup was a tenth of parsing a finding.
    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// Why `text` breaks the rules for a field of `length` characters, or nil. Control characters
    /// (NUL included, which PostgreSQL cannot store) are refused; `multiline` allows newlines and tabs.
    public static func problem(_ text: String, length range: ClosedRange<Int>, multiline: Bool, blankAllowed: Bool = true) -> String? {
        let count = length(text)
        if count < range.lowerBound {
            return range.lowerBound == 1 ? "must not be empty" : "must be at least \(range.lowerBound) characters"
        }
        if count > range.upperBound {
            return "must be at most \(range.upperBound) characters (Unicode code points; got \(count))"
        }
        let forbidden = text.unicodeScalars.contains { scalar in
            isControl(scalar) && !(multiline && (scalar == "\n" || scalar == "\r" || scalar == "\t"))
        }
        if forbidden {
            return multiline ? "must not contain control characters other than newlines and tabs" : "must not contain control characters"
        }
        if !blankAllowed, text.unicodeScalars.allSatisfy({ $0.properties.isWhitespace }) {
            return "is required and must not be blank"
        }
        return nil
    }
}
