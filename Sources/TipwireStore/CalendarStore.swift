import Foundation
import Postgres
import TipwireCore

/// The `holidays` and `working_overrides` tables, and the `reporting_calendar`.
public struct CalendarStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    public func load() async throws -> WorkingCalendar {
        try await client.withConnection { try await Self.load(on: $0) }
    }

    static func load(on connection: PostgresConnection) async throws -> WorkingCalendar {
        try decode(try await connection.pipeline(queries))
    }

    static let queries: [PostgresQuery] = ["SELECT day::text FROM holidays", "SELECT day::text FROM working_overrides"]

    /// The calendar from the results of `queries`.
    static func decode(_ results: some Collection<PostgresRows>) throws -> WorkingCalendar {
        let results = Array(results)
        return WorkingCalendar(
            holidays: Set(try results[0].decodeColumn(String.self).compactMap(CalendarDay.init)),
            workingOverrides: Set(try results[1].decodeColumn(String.self).compactMap(CalendarDay.init)))
    }

    /// Adds or replaces the days in one transaction; a day moves between the tables when its kind changes.
    @discardableResult
    public func importEntries(_ entries: [CalendarFile.Entry]) async throws -> (holidays: Int, workingDays: Int) {
        let holidays = entries.filter { $0.kind == .holiday }
        let working = entries.filter { $0.kind == .working }
        try await client.withTransaction { connection in
            _ = try await connection.pipeline([
                "DELETE FROM holidays WHERE day = ANY(\(working.map(\.day.description))::date[])",
                "DELETE FROM working_overrides WHERE day = ANY(\(holidays.map(\.day.description))::date[])",
                """
                INSERT INTO holidays (day, name) SELECT * FROM unnest(\(holidays.map(\.day.description))::date[], \(holidays.map(\.name))::text[])
                ON CONFLICT (day) DO UPDATE SET name = excluded.name
                """,
                """
                INSERT INTO working_overrides (day, reason) SELECT * FROM unnest(\(working.map(\.day.description))::date[], \(working.map(\.name))::text[])
                ON CONFLICT (day) DO UPDATE SET reason = excluded.reason
                """,
            ])
        }
        return (holidays.count, working.count)
    }

    /// The days of a year, in order.
    public func entries(year: Int) async throws -> [CalendarFile.Entry] {
        let rows = try await client.query(
            """
            SELECT day::text, 'holiday', name FROM holidays WHERE extract(year FROM day) = \(year)
            UNION ALL SELECT day::text, 'working', reason FROM working_overrides WHERE extract(year FROM day) = \(year)
            ORDER BY 1
            """)
        return try rows.decode((String, String, String).self).compactMap { day, kind, name in
            guard let day = CalendarDay(day), let kind = CalendarFile.Kind(rawValue: kind) else { return nil }
            return CalendarFile.Entry(day: day, kind: kind, name: name)
        }
    }
}

extension CalendarStore {
    /// How reporting periods are cut (migration 0022): Decree 09/2019/NĐ-CP's 15th unless an admin changed it.
    public func reportingCalendar() async throws -> ReportingCalendar {
        let row = try await client.query("SELECT start_day FROM reporting_calendar").firstRow
        return try row.map { ReportingCalendar(startDay: try $0.decode(column: 0, as: Int.self)) } ?? .decree09
    }

    /// Sets the day reporting months start on (1: calendar months), audited; past reports follow it, since
    /// every figure is computed for the period asked.
    public func setReportingCalendar(_ calendar: ReportingCalendar, by actor: String = TokenStore.operatorActor) async throws {
        try await client.withTransaction { connection in
            try await connection.execute(
                """
                INSERT INTO reporting_calendar (start_day, changed_at, changed_by) VALUES (\(calendar.startDay), now(), \(actor))
                ON CONFLICT (id) DO UPDATE SET start_day = excluded.start_day, changed_at = excluded.changed_at, changed_by = excluded.changed_by
                """)
            try await AuditStore.record(
                [
                    AuditEntry(
                        actor: actor, action: .reportingCalendarChanged, object: "reporting-calendar",
                        detail: ["start_day": .number(Double(calendar.startDay))])
                ], on: connection)
        }
    }
}
