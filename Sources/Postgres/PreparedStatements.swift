import CLibPQ

/// The statements one connection has prepared (`PostgresQuery.prepared()`), by text and parameter types.
/// Touched only on the connection's own thread.
///
/// A name is handed out when a statement is first sent and forgotten again unless the server confirms
/// the preparation, so a statement whose preparation failed (or was skipped because an earlier statement
/// of its pipeline failed) is prepared again next time. A prepared statement outlives the transaction
/// that prepared it, rolled back or not.
final class PreparedStatements: @unchecked Sendable {
    struct Key: Hashable {
        let sql: String
        let types: [PostgresTypeOID]
    }

    /// How a statement goes to the server this time.
    enum Use {
        /// Parsed and planned for this call only.
        case unnamed
        /// Prepared before, or earlier in the same pipeline, under this name.
        case prepared(name: String)
        /// Prepared now under this name, then run.
        case prepare(name: String, key: Key)
    }

    /// Beyond this many statements on one connection the rest go unnamed: a bound on the server's memory,
    /// should a caller mark a statement whose text varies.
    static let limit = 128

    private var names: [Key: String] = [:]
    private var lastNumber = 0

    func use(_ query: PostgresQuery) -> Use {
        guard query.isPrepared else { return .unnamed }
        let key = Key(sql: query.sql, types: query.parameterTypes)
        if let name = names[key] { return .prepared(name: name) }
        guard names.count < Self.limit else { return .unnamed }
        lastNumber += 1
        let name = "tipwire_\(lastNumber)"
        names[key] = name
        return .prepare(name: name, key: key)
    }

    /// Records the outcome of a preparation sent under `use`: anything but success forgets the name.
    func settle(_ use: Use, prepared: Bool) {
        if case .prepare(_, let key) = use, !prepared { names[key] = nil }
    }
}

/// Prepares `query` under `name` and waits for the answer; blocking. Outside pipeline mode only.
func prepareBlocking(_ pg: OpaquePointer, _ query: PostgresQuery, name: String) throws {
    let types = query.parameterTypes.map { Oid($0.rawValue) }
    let result = PQprepare(pg, name, query.sql, Int32(types.count), types)
    defer { PQclear(result) }
    guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw serverError(result, pg: pg, sql: query.sql) }
}

/// Sends `query` as `use` says; 1 when libpq took it. A `.prepare` sends the preparation and the first run
/// together, which only pipeline mode allows.
func send(_ pg: OpaquePointer, _ query: PostgresQuery, _ use: PreparedStatements.Use) -> Int32 {
    withParameters(query) { count, types, values, lengths, formats in
        switch use {
        case .unnamed:
            return PQsendQueryParams(pg, query.sql, count, types, values, lengths, formats, 0)
        case .prepared(let name):
            return PQsendQueryPrepared(pg, name, count, values, lengths, formats, 0)
        case .prepare(let name, _):
            guard PQsendPrepare(pg, name, query.sql, count, types) == 1 else { return 0 }
            return PQsendQueryPrepared(pg, name, count, values, lengths, formats, 0)
        }
    }
}
