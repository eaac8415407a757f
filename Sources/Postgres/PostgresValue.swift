import Foundation

/// A PostgreSQL type object identifier.
public struct PostgresTypeOID: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let unspecified = Self(rawValue: 0)
    public static let bool = Self(rawValue: 16)
    public static let bytea = Self(rawValue: 17)
    public static let int8 = Self(rawValue: 20)
    public static let int2 = Self(rawValue: 21)
    public static let int4 = Self(rawValue: 23)
    public static let text = Self(rawValue: 25)
    public static let json = Self(rawValue: 114)
    public static let float4 = Self(rawValue: 700)
    public static let float8 = Self(rawValue: 701)
    public static let varchar = Self(rawValue: 1043)
    public static let date = Self(rawValue: 1082)
    public static let timestamp = Self(rawValue: 1114)
    public static let timestamptz = Self(rawValue: 1184)
    public static let numeric = Self(rawValue: 1700)
    public static let uuid = Self(rawValue: 2950)
    public static let jsonb = Self(rawValue: 3802)
    public static let boolArray = Self(rawValue: 1000)
    public static let byteaArray = Self(rawValue: 1001)
    public static let int2Array = Self(rawValue: 1005)
    public static let int4Array = Self(rawValue: 1007)
    public static let textArray = Self(rawValue: 1009)
    public static let int8Array = Self(rawValue: 1016)
    public static let float8Array = Self(rawValue: 1022)
    public static let timestamptzArray = Self(rawValue: 1185)
    public static let numericArray = Self(rawValue: 1231)
    public static let uuidArray = Self(rawValue: 2951)
    public static let jsonbArray = Self(rawValue: 3807)
}

/// One bound parameter as it travels to libpq.
public enum PostgresParameter: Sendable, Equatable {
    case null
    /// Text format (libpq format 0).
    case text(String)
    /// Binary format (libpq format 1); used for bytea so bytes need no escaping.
    case binary([UInt8])
}

/// A Swift value that can be bound as a query parameter.
public protocol PostgresEncodable: Sendable {
    /// The parameter's type; `.unspecified` lets the server infer it from context.
    static var postgresType: PostgresTypeOID { get }
    /// The array type whose elements are this type, for `[Self]` parameters.
    static var postgresArrayType: PostgresTypeOID { get }
    func postgresParameter() -> PostgresParameter
    /// The element's text inside an array literal (unquoted; the array encoder quotes it).
    func postgresArrayElementText() -> String?
}

extension PostgresEncodable {
    public static var postgresArrayType: PostgresTypeOID { .unspecified }
    public func postgresArrayElementText() -> String? {
        switch postgresParameter() {
        case .null: return nil
        case .text(let text): return text
        case .binary(let bytes): return "\\x" + hexString(bytes)
        }
    }
}

/// A Swift value that can be decoded from a result column.
///
/// Results travel in text format; a type decodes from the column's text, and
/// may override `init(postgresBytes:type:)` to avoid building a `String`.
public protocol PostgresDecodable {
    init(postgresText text: String, type: PostgresTypeOID) throws
    init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresTypeOID) throws
    /// The value for SQL NULL; only optionals have one.
    static func postgresNull(column: String) throws -> Self
}

extension PostgresDecodable {
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresTypeOID) throws {
        try self.init(postgresText: String(decoding: bytes, as: UTF8.self), type: type)
    }
    public static func postgresNull(column: String) throws -> Self {
        throw PostgresError(.decoding, "column \(column) is NULL but \(Self.self) is not optional")
    }
}

public typealias PostgresCodable = PostgresEncodable & PostgresDecodable

func decodingError<T>(_ text: String, as type: T.Type) -> PostgresError {
    PostgresError(.decoding, "cannot decode \(text.prefix(60).debugDescription) as \(T.self)")
}

// MARK: - Integers, floating point, booleans, text

extension FixedWidthInteger where Self: PostgresEncodable {
    public func postgresParameter() -> PostgresParameter { .text(String(self)) }
}

extension FixedWidthInteger where Self: PostgresDecodable {
    public init(postgresText text: String, type: PostgresTypeOID) throws {
        guard let value = Self(text) else { throw decodingError(text, as: Self.self) }
        self = value
    }
}

extension Int: PostgresCodable {
    public static var postgresType: PostgresTypeOID { .int8 }
    public static var postgresArrayType: PostgresTypeOID { .int8Array }
}
extension Int64: PostgresCodable {
    public static var postgresType: PostgresTypeOID { .int8 }
    public static var postgresArrayType: PostgresTypeOID { .int8Array }
}
extension Int32: PostgresCodable {
    public static var postgresType: PostgresTypeOID { .int4 }
    public static var postgresArrayType: PostgresTypeOID { .int4Array }
}
extension Int16: PostgresCodable {
    public static var postgresType: PostgresTypeOID { .int2 }
    public static var postgresArrayType: PostgresTypeOID { .int2Array }
}

extension Double: PostgresCodable {
    public static var postgresType: PostgresTypeOID { .float8 }
    public static var postgresArrayType: PostgresTypeOID { .float8Array }
    public func postgresParameter() -> PostgresParameter {
        if isNaN { return .text("NaN") }
        if isInfinite { return .text(self < 0 ? "-Infinity" : "Infinity") }
        return .text("\(self)")
    }
    public init(postgresText text: String, type: PostgresTypeOID) throws {
        switch text {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(text) else { throw decodingError(text, as: Double.self) }
            self = value
        }
    }
}

extension Bool: PostgresCodable {
    public static var postgresType: PostgresTypeOID { .bool }
    public static var postgresArrayType: PostgresTypeOID { .boolArray }
    public func postgresParameter() -> PostgresParameter { .text(self ? "t" : "f") }
    public init(postgresText text: String, type: PostgresTypeOID) throws {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw decodingError(text, as: Bool.self)
        }
    }
}

extension String: PostgresCodable {
    /// Unspecified, so a string binds to whatever the context needs (text, varchar, an enum, a date…).
    public static var postgresType: PostgresTypeOID { .unspecified }
    public static var postgresArrayType: PostgresTypeOID { .textArray }
    public func postgresParameter() -> PostgresParameter { .text(self) }
    public init(postgresText text: String, type: PostgresTypeOID) throws { self = text }
}

extension Decimal: PostgresCodable {
    public static var postgresType: PostgresTypeOID { .numeric }
    public static var postgresArrayType: PostgresTypeOID { .numericArray }
    public func postgresParameter() -> PostgresParameter {
        .text(isNaN ? "NaN" : NSDecimalNumber(decimal: self).description(withLocale: Locale(identifier: "en_US_POSIX")))
    }
    public init(postgresText text: String, type: PostgresTypeOID) throws {
        if text == "NaN" { self = .nan; return }
        guard let value = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
            throw decodingError(text, as: Decimal.self)
        }
        self = value
    }
}

extension UUID: PostgresCodable {
    public static var postgresType: PostgresTypeOID { .uuid }
    public static var postgresArrayType: PostgresTypeOID { .uuidArray }
    public func postgresParameter() -> PostgresParameter {
        // By table lookup: `uuidString` formats through snprintf, which showed in profiles of large arrays of ids.
        let digits: StaticString = "0123456789abcdef"
        let text = withUnsafeBytes(of: uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { out in
                var position = 0
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    out[position] = digits.utf8Start[Int(byte >> 4)]
                    out[position + 1] = digits.utf8Start[Int(byte & 0x0F)]
                    position += 2
                }
                return position
            }
        }
        return .text(text)
    }
    public init(postgresText text: String, type: PostgresTypeOID) throws {
        // PostgreSQL prints uuids as 36 lower-case characters; parsed directly (Foundation's parser goes through sscanf).
        var text = text
        let parsed: UUID? = text.withUTF8 { chars -> UUID? in
            guard chars.count == 36 else { return nil }
            var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            let ok = withUnsafeMutableBytes(of: &bytes) { out -> Bool in
                var position = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        guard chars[position] == UInt8(ascii: "-") else { return false }
                        position += 1
                    }
                    guard let high = hexValue(chars[position]), let low = hexValue(chars[position + 1]) else { return false }
                    out[index] = high << 4 | low
                    position += 2
                }
                return true
            }
            return ok ? UUID(uuid: bytes) : nil
        }
        guard let value = parsed ?? UUID(uuidString: text) else { throw decodingError(text, as: UUID.self) }
        self = value
    }
}

// MARK: - Binary data

extension Array: PostgresEncodable where Element: PostgresEncodable {
    public static var postgresType: PostgresTypeOID {
        Element.self == UInt8.self ? .bytea : Element.postgresArrayType
    }
    public func postgresParameter() -> PostgresParameter {
        if Element.self == UInt8.self, let bytes = self as? [UInt8] { return .binary(bytes) }
        return .text(encodeArrayLiteral(self.map { $0.postgresArrayElementText() }))
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    public init(postgresText text: String, type: PostgresTypeOID) throws {
        if Element.self == UInt8.self {
            self = try decodeBytea(Array<UInt8>(text.utf8)) as! [Element]
            return
        }
        self = try parseArrayLiteral(text).map { element in
            guard let element else { return try Element.postgresNull(column: "array element") }
            return try Element(postgresText: element, type: .unspecified)
        }
    }
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresTypeOID) throws {
        if Element.self == UInt8.self {
            self = try decodeBytea(bytes) as! [Element]
        } else {
            try self.init(postgresText: String(decoding: bytes, as: UTF8.self), type: type)
        }
    }
}

extension UInt8: PostgresEncodable, PostgresDecodable {
    public static var postgresType: PostgresTypeOID { .int2 }
    public init(postgresText text: String, type: PostgresTypeOID) throws {
        guard let value = UInt8(text) else { throw decodingError(text, as: UInt8.self) }
        self = value
    }
}

extension Data: PostgresCodable {
    public static var postgresType: PostgresTypeOID { .bytea }
    public static var postgresArrayType: PostgresTypeOID { .byteaArray }
    public func postgresParameter() -> PostgresParameter { .binary([UInt8](self)) }
    public init(postgresText text: String, type: PostgresTypeOID) throws {
        self = Data(try decodeBytea(Array(text.utf8)))
    }
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresTypeOID) throws {
        self = Data(try decodeBytea(bytes))
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)

func hexString(_ bytes: [UInt8]) -> String {
    var out = [UInt8](repeating: 0, count: bytes.count * 2)
    for (index, byte) in bytes.enumerated() {
        out[2 * index] = hexDigits[Int(byte >> 4)]
        out[2 * index + 1] = hexDigits[Int(byte & 0x0f)]
    }
    return String(decoding: out, as: UTF8.self)
}

/// Decodes bytea's text output (`\x` followed by hex digits, the server default since 9.0).
func decodeBytea<Bytes: Collection>(_ text: Bytes) throws -> [UInt8] where Bytes.Element == UInt8, Bytes.Index == Int {
    func nibble(_ c: UInt8) throws -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: throw PostgresError(.decoding, "bytea value is not in hex format")
        }
    }
    let start = text.startIndex
    guard text.count >= 2, text[start] == UInt8(ascii: "\\"), text[start + 1] == UInt8(ascii: "x"),
        text.count % 2 == 0
    else { throw PostgresError(.decoding, "bytea value is not in hex format (set bytea_output = hex)") }
    var out = [UInt8](repeating: 0, count: (text.count - 2) / 2)
    var index = start + 2
    var outIndex = 0
    while index < text.endIndex {
        out[outIndex] = try nibble(text[index]) << 4 | nibble(text[index + 1])
        index += 2
        outIndex += 1
    }
    return out
}

// MARK: - Optionals

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public static var postgresType: PostgresTypeOID { Wrapped.postgresType }
    public static var postgresArrayType: PostgresTypeOID { Wrapped.postgresArrayType }
    public func postgresParameter() -> PostgresParameter {
        switch self {
        case .none: return .null
        case .some(let value): return value.postgresParameter()
        }
    }
    public func postgresArrayElementText() -> String? { self?.postgresArrayElementText() }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText text: String, type: PostgresTypeOID) throws {
        self = try Wrapped(postgresText: text, type: type)
    }
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresTypeOID) throws {
        self = try Wrapped(postgresBytes: bytes, type: type)
    }
    public static func postgresNull(column: String) throws -> Self { nil }
}

// MARK: - JSON

/// A `Codable` value stored as `jsonb` (or read from `json`).
public struct PostgresJSON<Value: Codable & Sendable>: PostgresCodable {
    public var value: Value
    public init(_ value: Value) { self.value = value }

    public static var postgresType: PostgresTypeOID { .jsonb }
    public static var postgresArrayType: PostgresTypeOID { .jsonbArray }
    public func postgresParameter() -> PostgresParameter {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return .text(String(decoding: try encoder.encode(value), as: UTF8.self))
        } catch {
            // Encoding a Codable value only fails for non-finite floats and
            // similar programmer errors; fail loudly in the statement instead
            // of silently storing something else.
            return .text("<<unencodable JSON: \(error)>>")
        }
    }
    public init(postgresText text: String, type: PostgresTypeOID) throws {
        try self.init(postgresBytes: UnsafeRawBufferPointer(start: nil, count: 0), type: type, text: text)
    }
    public init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresTypeOID) throws {
        try self.init(postgresBytes: bytes, type: type, text: nil)
    }
    private init(postgresBytes bytes: UnsafeRawBufferPointer, type: PostgresTypeOID, text: String?) throws {
        let data = text.map { Data($0.utf8) } ?? Data(bytes)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            value = try decoder.decode(Value.self, from: data)
        } catch {
            throw PostgresError(.decoding, "cannot decode JSON as \(Value.self): \(error)")
        }
    }
}

extension PostgresJSON: Equatable where Value: Equatable {}

/// The value of one hexadecimal digit, either case.
private func hexValue(_ character: UInt8) -> UInt8? {
    switch character {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
    default: nil
    }
}
