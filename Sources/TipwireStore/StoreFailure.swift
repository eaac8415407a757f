import Postgres

/// Names of the schema's constraints that the store turns into answers (`schemas/sql`).
enum Constraint {
    /// One open task per agency and finding: a transfer or reassignment to an agency already holding one.
    static let oneOpenTaskPerAgency = "tasks_one_open_per_agency"
    /// A response's ce_id applied once per agency.
    static let appliedResponse = "applied_responses_pkey"
    /// An idempotency key used once per scope.
    static let idempotencyKey = "idempotency_keys_pkey"
}

extension PostgresError {
    /// True when the error is `constraint`'s violation.
    func violates(_ constraint: String) -> Bool { self.constraint == constraint }
}

/// A database failure as callers above the store see it, without knowing the database: the API answers
/// 503 for `unavailable` and 422 naming the field for `refusedValue`.
public enum StoreFailure: Sendable, Equatable {
    /// The database is away, saturated, or lost a race (a deadlock): the same request may succeed later.
    case unavailable(reason: String)
    /// The request could not start its database work within its admission bound (load shedding); nothing
    /// was written, and it may be sent again shortly.
    case overloaded(reason: String)
    /// The database refused a value for good (too long, out of range, a CHECK). `field` names it, from the
    /// column or the constraint; `constraint` and `sqlState` are for logs (never a row value).
    case refusedValue(field: String, reason: String, constraint: String?, sqlState: String?)

    /// The classification of `error`, or nil when it is no database failure of these kinds.
    public init?(_ error: any Error) {
        guard let error = error as? PostgresError else { return nil }
        if error.isRefusedValue {
            let field = error.column ?? error.constraint.map { Self.field(fromConstraint: $0, table: error.table) } ?? "body"
            self = .refusedValue(field: field, reason: error.constraint ?? error.message, constraint: error.constraint, sqlState: error.sqlState)
        } else if error.kind == .admissionTimeout {
            self = .overloaded(reason: error.message)
        } else if error.isTransient {
            self = .unavailable(reason: error.message)
        } else {
            return nil
        }
    }

    /// `findings_title_check` on `findings` → `title`: PostgreSQL names a column's CHECK `<table>_<column>_check`.
    public static func field(fromConstraint constraint: String, table: String?) -> String {
        var name = Substring(constraint)
        if let table, name.hasPrefix(table + "_") { name = name.dropFirst(table.count + 1) }
        for suffix in ["_check", "_not_null"] where name.hasSuffix(suffix) { name = name.dropLast(suffix.count) }
        return name.isEmpty ? constraint : String(name)
    }
}
