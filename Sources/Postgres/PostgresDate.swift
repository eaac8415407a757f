import Foundation

// Dates travel as ISO text in UTC: every connection sets `TimeZone = 'UTC'`
// and `DateStyle = 'ISO, YMD'`, so parsing needs no locale or calendar.

extension Date: PostgresCodable {
    public static var postgresType: PostgresTypeOID { .timestamptz }
    public static var postgresArrayType: PostgresTypeOID { .timestamptzArray }

    public func postgresParameter() -> PostgresParameter {
        if self == .distantFuture { return .text("infinity") }
        if self == .distantPast { return .text("-infinity") }
        // Beyond timestamptz's range (4713 BC to 294276 AD) a date is an infinity to PostgreSQL; the
        // bounds are checked before the conversion to microseconds, which would trap past Int64.
        let sinceEpoch = timeIntervalSince1970
        if sinceEpoch.isNaN { return .text("NaN") }  // refused by the server with a clear error, never a trap
        if sinceEpoch >= Self.postgresEnd { return .text("infinity") }
        if sinceEpoch < Self.postgresEarliest { return .text("-infinity") }
        let micros = Int64((sinceEpoch * 1_000_000).rounded())
        var days = micros / 86_400_000_000
        var dayMicros = micros % 86_400_000_000
        if dayMicros < 0 {
            dayMicros += 86_400_000_000
            days -= 1
        }
        let (year, month, day) = civilFromDays(days)
        let seconds = dayMicros / 1_000_000
        let fraction = dayMicros % 1_000_000
        // Written into bytes: string interpolation of a dozen padded numbers cost microseconds per value.
        var out: [UInt8] = []
        out.reserveCapacity(32)
        func put(_ value: Int64, _ width: Int) {
            var digits: [UInt8] = []
            var rest = value
            repeat {
                digits.append(UInt8(48 + rest % 10))
                rest /= 10
            } while rest > 0
            for _ in digits.count..<max(width, digits.count) { out.append(48) }
            out.append(contentsOf: digits.reversed())
        }
        put(year > 0 ? year : 1 - year, 4)
        out.append(UInt8(ascii: "-"))
        put(month, 2)
        out.append(UInt8(ascii: "-"))
        put(day, 2)
        out.append(UInt8(ascii: " "))
        put(seconds / 3600, 2)
        out.append(UInt8(ascii: ":"))
        put(seconds / 60 % 60, 2)
        out.append(UInt8(ascii: ":"))
        put(seconds % 60, 2)
        out.append(UInt8(ascii: "."))
        put(fraction, 6)
        out.append(contentsOf: "+00".utf8)
        if year <= 0 { out.append(contentsOf: " BC".utf8) }
        return .text(String(decoding: out, as: UTF8.self))
    }

    /// The start of 294277-01-01 and of 4713-11-24 BC, timestamptz's limits, in seconds since 1970.
    static let postgresEnd: TimeInterval = 9_224_318_016_000
    static let postgresEarliest: TimeInterval = -210_835_267_200

    public init(postgresText text: String, type: PostgresTypeOID) throws {
        switch text {
        case "infinity": self = .distantFuture; return
        case "-infinity": self = .distantPast; return
        default: break
        }
        guard let micros = parseTimestampMicros(Array(text.utf8)) else { throw decodingError(text, as: Date.self) }
        self = Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }
}

/// Parses `YYYY-MM-DD[ HH:MM:SS[.ffffff]][+HH[:MM[:SS]]][ BC]` into microseconds since 1970 UTC.
private func parseTimestampMicros(_ s: [UInt8]) -> Int64? {
    var index = 0
    func number(maxDigits: Int = 9) -> Int64? {
        var value: Int64 = 0
        var digits = 0
        while index < s.count, digits < maxDigits, s[index] >= 48, s[index] <= 57 {
            value = value * 10 + Int64(s[index] - 48)
            index += 1
            digits += 1
        }
        return digits == 0 ? nil : value
    }
    func expect(_ c: Character) -> Bool {
        guard index < s.count, s[index] == c.asciiValue else { return false }
        index += 1
        return true
    }
    guard var year = number(), expect("-"), let month = number(maxDigits: 2), expect("-"),
        let day = number(maxDigits: 2)
    else { return nil }
    var micros: Int64 = 0
    if expect(" ") || expect("T") {
        guard let hour = number(maxDigits: 2), expect(":"), let minute = number(maxDigits: 2), expect(":"),
            let second = number(maxDigits: 2)
        else { return nil }
        micros = ((hour * 60 + minute) * 60 + second) * 1_000_000
        if expect(".") {
            let start = index
            guard var fraction = number(maxDigits: 6) else { return nil }
            for _ in (index - start)..<6 { fraction *= 10 }
            micros += fraction
        }
        if index < s.count, s[index] == UInt8(ascii: "+") || s[index] == UInt8(ascii: "-") {
            let sign: Int64 = s[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(maxDigits: 2) else { return nil }
            var offset = offsetHours * 3600
            if expect(":"), let offsetMinutes = number(maxDigits: 2) {
                offset += offsetMinutes * 60
                if expect(":"), let offsetSeconds = number(maxDigits: 2) { offset += offsetSeconds }
            }
            micros -= sign * offset * 1_000_000
        }
    }
    if expect(" ") {
        guard index + 2 <= s.count, s[index] == UInt8(ascii: "B"), s[index + 1] == UInt8(ascii: "C") else { return nil }
        index += 2
        year = 1 - year
    }
    guard index == s.count, (1...12).contains(month), (1...31).contains(day) else { return nil }
    return daysFromCivil(year, month, day) * 86_400_000_000 + micros
}

// Howard Hinnant's civil-calendar algorithms (proleptic Gregorian).
private func daysFromCivil(_ y: Int64, _ m: Int64, _ d: Int64) -> Int64 {
    let year = m <= 2 ? y - 1 : y
    let era = (year >= 0 ? year : year - 399) / 400
    let yoe = year - era * 400
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

private func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
}
