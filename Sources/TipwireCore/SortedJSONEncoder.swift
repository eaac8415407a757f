import Foundation

/// Writes an `Encodable` value as compact JSON with sorted keys: byte for byte what Foundation's
/// `JSONEncoder` writes with `[.sortedKeys, .withoutEscapingSlashes]` and dates as `formatTimestamp`,
/// in about half its time. Every event, stored answer and API response is encoded here, several per
/// finding, and Foundation's encoder was a sixth of the server's time at saturation (docs/adr/0002).
///
/// Keys sort by their UTF-8 bytes; strings escape `"`, `\` and the C0 controls (`\b \t \n \f \r`, the
/// rest as `\u00xx`) and nothing else; a number is its Swift description less a trailing `.0`; `Date`,
/// `URL`, `Data` and `Decimal` are written as `JSONEncoder` writes them. NaN and infinities throw.
enum SortedJSONEncoder {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        guard let root = try encodedNode(value, at: []) else {
            throw EncodingError.invalidValue(
                value, EncodingError.Context(codingPath: [], debugDescription: "Top-level \(type(of: value)) did not encode any values."))
        }
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        root.write(into: &out)
        return out
    }

    /// One encoded value: scalars already in their final form, containers by reference so nested
    /// containers can fill them after they were handed out.
    fileprivate enum Node {
        case string(String)
        case number(String)
        case literal(StaticString)
        case object(ObjectBox)
        case array(ArrayBox)
        /// What a `superEncoder` produced, read when written.
        case deferred(TreeEncoder)
    }

    /// An object's members in the order they were encoded: sorted only when written, which costs less
    /// than hashing every key into a dictionary. A key encoded twice keeps its last value, as in `JSONEncoder`.
    fileprivate final class ObjectBox {
        var members: [(key: String, node: Node)] = []
    }

    fileprivate final class ArrayBox {
        var elements: [Node] = []
    }

    /// A value inside a container (see `inContainer`).
    fileprivate static func node<T: Encodable>(_ value: T, at codingPath: @autoclosure () -> [any CodingKey]) throws -> Node {
        inContainer(try encodedNode(value, at: codingPath()))
    }

    /// Inside a container, a value that encoded nothing is an empty object, as with `JSONEncoder`.
    fileprivate static func inContainer(_ encoded: Node?) -> Node { encoded ?? .object(ObjectBox()) }

    /// What `value` encodes to, nil if nothing. `codingPath` is only built for values that encode
    /// themselves: most are strings and dates.
    private static func encodedNode<T: Encodable>(_ value: T, at codingPath: @autoclosure () -> [any CodingKey]) throws -> Node? {
        if let node = special(value) { return node }
        let encoder = TreeEncoder(codingPath: codingPath())
        try value.encode(to: encoder)
        return encoder.encoded
    }

    /// The types JSONEncoder writes its own way, recognised by exact type as it does.
    private static func special<T: Encodable>(_ value: T) -> Node? {
        if T.self == String.self, let string = value as? String { return .string(string) }
        if T.self == Date.self, let date = value as? Date { return .string(formatTimestamp(date)) }
        if T.self == URL.self, let url = value as? URL { return .string(url.absoluteString) }
        if T.self == Data.self, let data = value as? Data { return .string(data.base64EncodedString()) }
        if T.self == Decimal.self, let decimal = value as? Decimal { return .number(decimal.description) }
        return nil
    }

    fileprivate static func number(_ value: some BinaryFloatingPoint & LosslessStringConvertible, at codingPath: [any CodingKey]) throws -> Node {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value, EncodingError.Context(codingPath: codingPath, debugDescription: "JSON has no number for \(value)"))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return .number(text)
    }
}

extension SortedJSONEncoder.Node {
    fileprivate func write(into out: inout [UInt8]) {
        switch self {
        case .string(let string): Self.writeString(string, into: &out)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .literal(let text): text.withUTF8Buffer { out.append(contentsOf: $0) }
        case .object(let box):
            out.append(UInt8(ascii: "{"))
            // By key, then by when it was encoded: of a key's entries the last is written.
            let order = box.members.indices.sorted { left, right in
                let comparison = Self.compareBytes(box.members[left].key, box.members[right].key)
                return comparison != 0 ? comparison < 0 : left < right
            }
            var first = true
            for (position, index) in order.enumerated() {
                let member = box.members[index]
                if position + 1 < order.count, Self.compareBytes(box.members[order[position + 1]].key, member.key) == 0 { continue }
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                Self.writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                member.node.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .array(let box):
            out.append(UInt8(ascii: "["))
            for (index, element) in box.elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .deferred(let encoder): SortedJSONEncoder.inContainer(encoder.encoded).write(into: &out)
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The order of two strings' UTF-8 bytes: negative, zero or positive.
    private static func compareBytes(_ left: String, _ right: String) -> Int {
        var left = left
        var right = right
        return left.withUTF8 { leftBytes in
            right.withUTF8 { rightBytes in
                let common = min(leftBytes.count, rightBytes.count)
                if common > 0, let leftBase = leftBytes.baseAddress, let rightBase = rightBytes.baseAddress {
                    let comparison = memcmp(leftBase, rightBase, common)
                    if comparison != 0 { return Int(comparison) }
                }
                return leftBytes.count - rightBytes.count
            }
        }
    }

    private static func writeString(_ string: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                out.append(contentsOf: bytes[start..<index])
                start = index + 1
                out.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x09: out.append(UInt8(ascii: "t"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                default:
                    out.append(contentsOf: [
                        UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)],
                    ])
                }
            }
            out.append(contentsOf: bytes[start...])
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// The `Encoder` a value's `encode(to:)` talks to: it records one node (an object, an array or a scalar).
private final class TreeEncoder: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    /// What was encoded, if anything.
    private(set) var encoded: SortedJSONEncoder.Node?

    init(codingPath: [any CodingKey]) { self.codingPath = codingPath }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let box: SortedJSONEncoder.ObjectBox
        if case .object(let existing) = encoded {
            box = existing
        } else {
            box = SortedJSONEncoder.ObjectBox()
            encoded = .object(box)
        }
        return KeyedEncodingContainer(KeyedContainer<Key>(box: box, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let box: SortedJSONEncoder.ArrayBox
        if case .array(let existing) = encoded {
            box = existing
        } else {
            box = SortedJSONEncoder.ArrayBox()
            encoded = .array(box)
        }
        return UnkeyedContainer(box: box, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleValueContainer(encoder: self) }

    fileprivate func set(_ node: SortedJSONEncoder.Node) { encoded = node }
}

/// Turns each primitive into its node; shared by the three containers.
private protocol NodeMaking {
    var codingPath: [any CodingKey] { get }
}

extension NodeMaking {
    func node(_ value: Bool) -> SortedJSONEncoder.Node { .literal(value ? "true" : "false") }
    func node(_ value: some BinaryInteger) -> SortedJSONEncoder.Node { .number(String(value)) }
    func node(_ value: Double) throws -> SortedJSONEncoder.Node { try SortedJSONEncoder.number(value, at: codingPath) }
    func node(_ value: Float) throws -> SortedJSONEncoder.Node { try SortedJSONEncoder.number(value, at: codingPath) }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol, NodeMaking {
    let box: SortedJSONEncoder.ObjectBox
    let codingPath: [any CodingKey]

    private func put(_ node: SortedJSONEncoder.Node, _ key: Key) { box.members.append((key.stringValue, node)) }

    mutating func encodeNil(forKey key: Key) throws { put(.literal("null"), key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { put(node(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { put(try node(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { put(try node(value), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { put(node(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { put(node(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { put(node(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { put(node(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { put(node(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { put(node(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { put(node(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { put(node(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { put(node(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { put(node(value), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        put(try SortedJSONEncoder.node(value, at: codingPath + [key]), key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = SortedJSONEncoder.ObjectBox()
        put(.object(nested), key)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = SortedJSONEncoder.ArrayBox()
        put(.array(nested), key)
        return UnkeyedContainer(box: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { superEncoder(named: "super") }
    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key.stringValue) }

    private func superEncoder(named name: String) -> any Encoder {
        let encoder = TreeEncoder(codingPath: codingPath + [IndexKey(stringValue: name)])
        box.members.append((name, .deferred(encoder)))
        return encoder
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer, NodeMaking {
    let box: SortedJSONEncoder.ArrayBox
    let codingPath: [any CodingKey]
    var count: Int { box.elements.count }

    private var nextPath: [any CodingKey] { codingPath + [IndexKey(intValue: count)] }
    private func append(_ node: SortedJSONEncoder.Node) { box.elements.append(node) }

    mutating func encodeNil() throws { append(.literal("null")) }
    mutating func encode(_ value: Bool) throws { append(node(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(try node(value)) }
    mutating func encode(_ value: Float) throws { append(try node(value)) }
    mutating func encode(_ value: Int) throws { append(node(value)) }
    mutating func encode(_ value: Int8) throws { append(node(value)) }
    mutating func encode(_ value: Int16) throws { append(node(value)) }
    mutating func encode(_ value: Int32) throws { append(node(value)) }
    mutating func encode(_ value: Int64) throws { append(node(value)) }
    mutating func encode(_ value: UInt) throws { append(node(value)) }
    mutating func encode(_ value: UInt8) throws { append(node(value)) }
    mutating func encode(_ value: UInt16) throws { append(node(value)) }
    mutating func encode(_ value: UInt32) throws { append(node(value)) }
    mutating func encode(_ value: UInt64) throws { append(node(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { append(try SortedJSONEncoder.node(value, at: nextPath)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = SortedJSONEncoder.ObjectBox()
        let path = nextPath
        append(.object(nested))
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(box: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = SortedJSONEncoder.ArrayBox()
        let path = nextPath
        append(.array(nested))
        return UnkeyedContainer(box: nested, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = TreeEncoder(codingPath: nextPath)
        append(.deferred(encoder))
        return encoder
    }
}

private struct SingleValueContainer: SingleValueEncodingContainer, NodeMaking {
    let encoder: TreeEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.set(.literal("null")) }
    mutating func encode(_ value: Bool) throws { encoder.set(node(value)) }
    mutating func encode(_ value: String) throws { encoder.set(.string(value)) }
    mutating func encode(_ value: Double) throws { encoder.set(try node(value)) }
    mutating func encode(_ value: Float) throws { encoder.set(try node(value)) }
    mutating func encode(_ value: Int) throws { encoder.set(node(value)) }
    mutating func encode(_ value: Int8) throws { encoder.set(node(value)) }
    mutating func encode(_ value: Int16) throws { encoder.set(node(value)) }
    mutating func encode(_ value: Int32) throws { encoder.set(node(value)) }
    mutating func encode(_ value: Int64) throws { encoder.set(node(value)) }
    mutating func encode(_ value: UInt) throws { encoder.set(node(value)) }
    mutating func encode(_ value: UInt8) throws { encoder.set(node(value)) }
    mutating func encode(_ value: UInt16) throws { encoder.set(node(value)) }
    mutating func encode(_ value: UInt32) throws { encoder.set(node(value)) }
    mutating func encode(_ value: UInt64) throws { encoder.set(node(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { encoder.set(try SortedJSONEncoder.node(value, at: codingPath)) }
}

/// A position in an array, or a super encoder's key, in a coding path.
private struct IndexKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = "Index \(intValue)"
        self.intValue = intValue
    }
}
