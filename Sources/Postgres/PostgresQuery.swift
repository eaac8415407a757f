import Foundation

/// A statement with its bound parameters.
///
/// Interpolated values always travel as parameters (`$1`, `$2`, …), never as
/// SQL text, so `"SELECT * FROM t WHERE name = \(name)"` is safe whatever
/// `name` holds. `\(unescaped: text)` is the one explicit door for raw SQL,
/// for identifiers the program itself controls.
public struct PostgresQuery: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public var sql: String
    public var parameters: [PostgresParameter]
    public var parameterTypes: [PostgresTypeOID]
    /// Whether each connection prepares the statement once and reuses its plan (see `prepared()`).
    public var isPrepared = false

    public init(unsafeSQL sql: String, parameters: [any PostgresEncodable] = []) {
        self.sql = sql
        self.parameters = parameters.map { $0.postgresParameter() }
        self.parameterTypes = parameters.map { type(of: $0).postgresType }
    }

    public init(stringLiteral value: String) {
        self.init(unsafeSQL: value)
    }

    public init(stringInterpolation: StringInterpolation) {
        sql = stringInterpolation.sql
        parameters = stringInterpolation.parameters
        parameterTypes = stringInterpolation.parameterTypes
    }

    /// This statement, prepared by each connection the first time it runs it and reused after: parsed and
    /// planned once per connection, not on every call. For hot statements whose text does not vary; the
    /// values still travel as parameters. PostgreSQL replans it itself when a table it reads changes.
    public func prepared() -> PostgresQuery {
        var query = self
        query.isPrepared = true
        return query
    }

    /// `query.prepared()`, in a form that reads well around a statement literal.
    public static func prepared(_ query: PostgresQuery) -> PostgresQuery { query.prepared() }

    /// The SQL text only: bound values are never printed, they may be secret.
    public var description: String { sql }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var parameters: [PostgresParameter] = []
        var parameterTypes: [PostgresTypeOID] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            parameters.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value) {
            parameters.append(value.postgresParameter())
            parameterTypes.append(Value.postgresType)
            sql += "$\(parameters.count)"
        }

        /// Raw SQL text. Only for text the program controls, such as an identifier it generated.
        public mutating func appendInterpolation(unescaped text: String) {
            sql += text
        }

        /// Another query's text and parameters, its `$n` placeholders renumbered to follow this one's:
        /// for conditions built in one place and used in several statements. The fragment's SQL must use
        /// `$n` only as placeholders (not inside string literals or dollar quotes).
        public mutating func appendInterpolation(fragment: PostgresQuery) {
            let offset = parameters.count
            parameters += fragment.parameters
            parameterTypes += fragment.parameterTypes
            sql += renumberPlaceholders(fragment.sql, by: offset)
        }

        /// A quoted identifier (`"name"`), safe for any name.
        public mutating func appendInterpolation(identifier name: String) {
            sql += quoteIdentifier(name)
        }
    }
}

/// Quotes an identifier so it is used verbatim: `my "table"` → `"my ""table"""`.
public func quoteIdentifier(_ name: String) -> String {
    "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// `sql` with every `$n` placeholder raised by `offset`.
func renumberPlaceholders(_ sql: String, by offset: Int) -> String {
    if offset == 0 { return sql }
    var out = ""
    out.reserveCapacity(sql.utf8.count + 8)
    var digits = ""
    var inPlaceholder = false
    func flush() {
        if inPlaceholder {
            out += digits.isEmpty ? "$" : "$\((Int(digits) ?? 0) + offset)"
            digits = ""
            inPlaceholder = false
        }
    }
    for character in sql {
        if inPlaceholder, character.isASCII, character.isNumber {
            digits.append(character)
            continue
        }
        flush()
        if character == "$" {
            inPlaceholder = true
        } else {
            out.append(character)
        }
    }
    flush()
    return out
}
