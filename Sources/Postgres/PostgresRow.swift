import CLibPQ

/// Owns a `PGresult`; freed when the last row referring to it goes away.
/// A `PGresult` is immutable once returned, so reading it from any thread is safe.
final class ResultHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { PQclear(pointer) }
}

/// The rows a statement returned, plus the command's tag and affected row count.
public struct PostgresRows: Sendable, RandomAccessCollection {
    let handle: ResultHandle?
    public let columns: [String]
    let columnTypes: [PostgresTypeOID]
    let columnIndex: [String: Int]
    /// Rows affected by INSERT/UPDATE/DELETE/…; 0 when not applicable.
    public let affectedRows: Int
    public let count: Int

    init(handle: ResultHandle?) {
        self.handle = handle
        guard let pointer = handle?.pointer else {
            columns = []
            columnTypes = []
            columnIndex = [:]
            affectedRows = 0
            count = 0
            return
        }
        let columnCount = Int(PQnfields(pointer))
        columns = (0..<columnCount).map { String(cString: PQfname(pointer, Int32($0))) }
        columnTypes = (0..<columnCount).map { PostgresTypeOID(rawValue: PQftype(pointer, Int32($0))) }
        var index: [String: Int] = [:]
        for (position, name) in columns.enumerated() where index[name] == nil { index[name] = position }
        columnIndex = index
        affectedRows = Int(String(cString: PQcmdTuples(pointer))) ?? 0
        count = Int(PQntuples(pointer))
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(position: Int) -> PostgresRow { PostgresRow(rows: self, row: position) }

    /// Decodes every row as the given tuple of types: `for (id, name) in try rows.decode((Int, String).self)`.
    public func decode<each Column: PostgresDecodable>(_ types: (repeat each Column).Type) throws -> [(repeat each Column)] {
        try map { try $0.decode(types) }
    }

    /// Decodes the first column of every row.
    public func decodeColumn<Value: PostgresDecodable>(_ type: Value.Type) throws -> [Value] {
        try map { try $0.decode(column: 0, as: type) }
    }

    /// The first row, or nil when there is none.
    public var firstRow: PostgresRow? { isEmpty ? nil : self[0] }
}

/// One row of a result.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let row: Int

    public var columns: [String] { rows.columns }

    public func isNull(column: Int) -> Bool {
        guard let pointer = rows.handle?.pointer else { return true }
        return PQgetisnull(pointer, Int32(row), Int32(column)) == 1
    }

    /// Decodes the column at `column` (0-based).
    public func decode<Value: PostgresDecodable>(column: Int, as type: Value.Type = Value.self) throws -> Value {
        guard let pointer = rows.handle?.pointer, column >= 0, column < rows.columns.count else {
            throw PostgresError(.decoding, "no column \(column); the result has \(rows.columns.count)")
        }
        let name = rows.columns[column]
        if PQgetisnull(pointer, Int32(row), Int32(column)) == 1 { return try Value.postgresNull(column: name) }
        let length = Int(PQgetlength(pointer, Int32(row), Int32(column)))
        guard let value = PQgetvalue(pointer, Int32(row), Int32(column)) else {
            return try Value.postgresNull(column: name)
        }
        do {
            return try Value(postgresBytes: UnsafeRawBufferPointer(start: value, count: length), type: rows.columnTypes[column])
        } catch var error as PostgresError {
            error.message = "column \(name): \(error.message)"
            throw error
        }
    }

    /// Decodes the column named `name`.
    public func decode<Value: PostgresDecodable>(_ name: String, as type: Value.Type = Value.self) throws -> Value {
        guard let column = rows.columnIndex[name] else {
            throw PostgresError(.decoding, "no column named \(name); the result has \(rows.columns.joined(separator: ", "))")
        }
        return try decode(column: column, as: type)
    }

    /// Decodes the leading columns as a tuple: `let (id, name) = try row.decode((Int, String).self)`.
    public func decode<each Column: PostgresDecodable>(_ types: (repeat each Column).Type) throws -> (repeat each Column) {
        var column = 0
        func next<Value: PostgresDecodable>(_ type: Value.Type) throws -> Value {
            defer { column += 1 }
            return try decode(column: column, as: type)
        }
        return (repeat try next((each Column).self))
    }
}
