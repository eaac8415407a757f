/// An error from the `Postgres` module, carrying everything needed to act on it.
///
/// Server errors carry the SQLSTATE and the server's fields; every error that
/// came from running a statement carries the statement's SQL text (never its
/// bound values, which may be confidential). The server's DETAIL quotes row
/// values ("Failing row contains (…)", "Key (…)=(…)"), so `description`, which
/// ends up in logs, leaves it out; read `detail` where it is safe to show.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The server rejected the statement (see `sqlState`).
        case server
        /// The connection could not be opened or was lost.
        case connection
        /// A value could not be decoded into the requested Swift type.
        case decoding
        /// No connection became free within the pool's acquire timeout.
        case poolTimeout
        /// No connection became free within the caller's admission bound (`PostgresClient.admissionBound`):
        /// the caller sheds the work instead of queueing for it. Nothing was run.
        case admissionTimeout
        /// The pool was closed.
        case poolClosed
        /// A migration file is invalid or was changed after it was applied.
        case migration
        /// The caller used the API in a way it does not support.
        case usage
    }

    public var kind: Kind
    public var message: String
    public var sqlState: String?
    public var detail: String?
    public var hint: String?
    public var constraint: String?
    public var table: String?
    public var column: String?
    public var query: String?

    public init(
        _ kind: Kind, _ message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil,
        constraint: String? = nil, table: String? = nil, column: String? = nil, query: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.table = table
        self.column = column
        self.query = query
    }

    /// True when the connection this error came from can no longer be used.
    public var isConnectionFailure: Bool {
        kind == .connection || sqlState.map { $0.hasPrefix(SQLState.Class.connectionException) || SQLState.serverGoingAway.contains($0) } ?? false
    }

    /// True when the same statement may succeed if tried again later: the connection or the server went away,
    /// the pool had nothing free, the server was short of resources, or the transaction lost a race (a
    /// deadlock, a serialization failure). Everything else (a refused value, a constraint, a syntax error,
    /// a decoding failure) will fail the same way again.
    public var isTransient: Bool {
        switch kind {
        case .connection, .poolTimeout, .admissionTimeout, .poolClosed: return true
        case .decoding, .migration, .usage: return false
        case .server:
            guard let sqlState else { return false }
            return isConnectionFailure || sqlState.hasPrefix(SQLState.Class.insufficientResources)
                || [SQLState.serializationFailure, SQLState.deadlockDetected, SQLState.queryCanceled, SQLState.cannotConnectNow].contains(sqlState)
        }
    }

    /// True when the server refused a value for good: a data exception (class 22: too long, out of
    /// range, bad encoding, a NUL byte) or a CHECK or NOT NULL constraint. Retrying cannot help.
    public var isRefusedValue: Bool {
        guard let sqlState else { return false }
        return sqlState.hasPrefix(SQLState.Class.dataException) || sqlState == SQLState.checkViolation || sqlState == SQLState.notNullViolation
    }

    public var description: String {
        var text = "PostgresError(\(kind)"
        if let sqlState { text += " \(sqlState)" }
        text += "): \(message)"
        if let hint { text += " hint: \(hint)" }
        if let constraint { text += " constraint: \(constraint)" }
        if let query { text += " query: \(query.prefix(500))" }
        return text
    }
}

/// Well-known SQLSTATE codes callers commonly branch on.
public enum SQLState {
    public static let uniqueViolation = "23505"
    public static let foreignKeyViolation = "23503"
    public static let checkViolation = "23514"
    public static let notNullViolation = "23502"
    public static let serializationFailure = "40001"
    public static let deadlockDetected = "40P01"
    public static let queryCanceled = "57014"
    public static let syntaxError = "42601"
    public static let cannotConnectNow = "57P03"
    /// Also "cached plan must not change result type": a prepared statement's result columns changed under it.
    public static let featureNotSupported = "0A000"
    /// The server is ending the session (57P01 admin shutdown, 57P02 crash shutdown): the connection is gone.
    public static let serverGoingAway: Set<String> = ["57P01", "57P02"]

    /// The first two characters of a SQLSTATE name its class.
    public enum Class {
        /// Class 08: the connection failed.
        public static let connectionException = "08"
        /// Class 22: a value the server cannot take (too long, out of range, bad encoding).
        public static let dataException = "22"
        /// Class 53: the server is out of disk, memory or connections.
        public static let insufficientResources = "53"
    }
}
