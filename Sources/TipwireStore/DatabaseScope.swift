import Postgres
import TipwireCore

/// Who the database is told is asking, for the row-level security of migration 0015: the session
/// settings `tipwire.role`, `tipwire.newsroom` and `tipwire.agency` that every connection the current
/// task leases carries. With none bound, the service's role reads no finding, task, document, request,
/// envelope or case at all.
public enum DatabaseScope {
    /// As the pipeline: the relay, the deadline engine, the response consumer, ingest's shared commits,
    /// writes, and the command line.
    public static func system<T>(isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T) async rethrows -> T {
        try await PostgresContext.$settings.withValue(settings(role: "system"), operation: body, isolation: isolation)
    }

    /// As `principal`: it reads only what its scope holds.
    public static func principal<T>(
        _ principal: Principal, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T
    ) async rethrows -> T {
        try await PostgresContext.$settings.withValue(
            settings(role: principal.role.rawValue, newsroom: principal.newsroom, agency: principal.agency), operation: body, isolation: isolation)
    }

    static func settings(role: String, newsroom: PartyCode? = nil, agency: PartyCode? = nil) -> [String: String] {
        ["tipwire.role": role, "tipwire.newsroom": newsroom?.rawValue ?? "", "tipwire.agency": agency?.rawValue ?? ""]
    }
}

/// Load shedding: how long the current task may wait to start its database work (a pooled connection, or
/// a place in a shared ingest commit). A wait past the bound fails with `StoreFailure.overloaded` before
/// anything is written, so an overloaded API answers at once rather than queueing for seconds.
public enum DatabaseAdmission {
    public static func bounded<T>(by bound: Duration?, isolation: isolated (any Actor)? = #isolation, _ body: () async throws -> T) async rethrows
        -> T
    {
        try await PostgresClient.$admissionBound.withValue(bound, operation: body, isolation: isolation)
    }
}
