import Foundation

/// One problem with one input field: what a 4xx answer names.
public struct FieldError: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The field as a JSON pointer-ish path: `title`, `document_ids[2]`, `Idempotency-Key` (a header), `body`.
    public var field: String
    public var reason: String

    public init(_ field: String, _ reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String { "\(field): \(reason)" }
}

/// Input that broke one or more rules. Nothing was written.
public struct ValidationFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var errors: [FieldError]

    public init(_ errors: [FieldError]) { self.errors = errors }
    public init(_ field: String, _ reason: String) { self.errors = [FieldError(field, reason)] }

    public var description: String { errors.map(\.description).joined(separator: "; ") }
}

/// A parsed JSON document, so input can be checked field by field with precise reasons.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            // Text is normalized once, here, where every JSON body and Kafka payload is read.
            self = .string(TextRules.normalized(value))
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let values): try container.encode(values)
        case .object(let fields): try container.encode(fields)
        }
    }

    /// The JSON type's name, for messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// Reads fields out of a JSON object, collecting every problem rather than stopping at the first.
public struct FieldReader {
    public private(set) var errors: [FieldError] = []
    private let fields: [String: JSONValue]
    /// False when the body is not an object: then only that is reported, not every field as missing.
    private let isObject: Bool

    public init(object: JSONValue, allowed: Set<String>) {
        guard case .object(let fields) = object else {
            self.fields = [:]
            isObject = false
            errors.append(FieldError("body", "must be a JSON object, not \(object.typeName)"))
            return
        }
        self.fields = fields
        isObject = true
        for name in fields.keys.sorted() where !allowed.contains(name) {
            errors.append(FieldError(name, "is not a known field"))
        }
    }

    public mutating func fail(_ field: String, _ reason: String) {
        errors.append(FieldError(field, reason))
    }

    /// A string field; nil (with an error recorded when `required`) when absent, null or of the wrong type.
    public mutating func string(_ name: String, required: Bool = true) -> String? {
        switch fields[name] {
        case nil, .null?:
            if required && isObject { fail(name, "is required") }
            return nil
        case .string(let value)?:
            return value
        case let other?:
            fail(name, "must be a string, not \(other.typeName)")
            return nil
        }
    }

    /// A string field with a length range (in characters, counted as `TextRules.length`) that must not
    /// contain control characters other than newlines and tabs.
    public mutating func text(_ name: String, required: Bool = true, length: ClosedRange<Int>, multiline: Bool = false) -> String? {
        guard let value = string(name, required: required) else { return nil }
        // A text that must not be empty must not be blank either: spaces say nothing.
        if let problem = TextRules.problem(value, length: length, multiline: multiline, blankAllowed: length.lowerBound == 0) {
            fail(name, problem)
            return nil
        }
        return value
    }

    /// A whole-number field; nil (with an error recorded when `required`) when absent, null or not an integer.
    public mutating func integer(_ name: String, required: Bool = true) -> Int? {
        switch fields[name] {
        case nil, .null?:
            if required && isObject { fail(name, "is required") }
            return nil
        case .number(let value)? where value.rounded() == value && abs(value) < 1e15:
            return Int(value)
        case let other?:
            fail(name, "must be a whole number, not \(other.typeName == "number" ? "a fraction" : other.typeName)")
            return nil
        }
    }

    /// A newsroom, agency or jurisdiction code field.
    public mutating func code(_ name: String, required: Bool = true) -> PartyCode? {
        guard let text = string(name, required: required) else { return nil }
        guard let code = PartyCode(rawValue: text) else {
            fail(name, "is not a code: \(PartyCode.validate(text) ?? "invalid")")
            return nil
        }
        return code
    }

    /// An object field, whole, for a reader of its own; nil when absent or null.
    public mutating func object(_ name: String) -> JSONValue? {
        switch fields[name] {
        case nil, .null?: return nil
        case .object(let value)?: return .object(value)
        case let other?:
            fail(name, "must be an object, not \(other.typeName)")
            return nil
        }
    }

    public mutating func array(_ name: String) -> [JSONValue]? {
        switch fields[name] {
        case nil, .null?: return nil
        case .array(let values)?: return values
        case let other?:
            fail(name, "must be an array, not \(other.typeName)")
            return nil
        }
    }
}
