import Foundation
import Postgres
import TipwireCore

/// What `/metrics` shows from the database: the duties, the latencies and the pipeline's backlog.
public struct DatabaseMetricsSnapshot: Sendable, Hashable {
    /// Open duty clocks (running or paused) by holder kind and stage, and how many of them are past due.
    public struct Duties: Sendable, Hashable {
        public var holderKind: String
        public var stage: String
        public var open: Int
        public var overdue: Int
    }

    /// A cumulative histogram of one stage's latency at one agency, in seconds, over every task ever.
    public struct Latency: Sendable, Hashable {
        public var agency: String
        public var stage: LatencyStage
        /// Counts of spans no longer than each of `DatabaseMetricsSnapshot.bucketSeconds`, in order.
        public var buckets: [Int]
        public var count: Int
        public var sum: Double
    }

    /// What the pipeline has still to do: events committed but not yet in Kafka (the relay's lag), and
    /// rungs whose time has come but which the deadline engine has not raised yet (the engine's lag).
    public struct Backlog: Sendable, Hashable {
        public var unsentEvents: Int
        /// Seconds since the oldest unsent event was committed; 0 when none waits.
        public var oldestUnsentSeconds: Double
        public var dueRungs: Int
        /// Seconds since the oldest unraised rung fell due; 0 when none is due.
        public var oldestDueRungSeconds: Double

        public init(unsentEvents: Int, oldestUnsentSeconds: Double, dueRungs: Int, oldestDueRungSeconds: Double) {
            self.unsentEvents = unsentEvents
            self.oldestUnsentSeconds = oldestUnsentSeconds
            self.dueRungs = dueRungs
            self.oldestDueRungSeconds = oldestDueRungSeconds
        }
    }

    /// 1 hour, 8 hours, 1, 3, 7, 14, 30, 60 and 90 days.
    public static let bucketSeconds: [Double] = [3600, 8 * 3600, 86_400, 3 * 86_400, 7 * 86_400, 14 * 86_400, 30 * 86_400, 60 * 86_400, 90 * 86_400]

    public var duties: [Duties]
    public var latencies: [Latency]
    public var backlog: Backlog
}

extension StatsStore {
    /// The open and overdue duties at `now`, the acknowledge and resolve latency histograms by agency,
    /// and the pipeline's backlog.
    public func metricsSnapshot(now: Date = Date()) async throws -> DatabaseMetricsSnapshot {
        let buckets = DatabaseMetricsSnapshot.bucketSeconds.map { "count(*) FILTER (WHERE seconds <= \(Int($0)))::int" }.joined(separator: ", ")
        let results = try await client.withConnection { connection in
            try await connection.pipeline([
                """
                SELECT d.holder_kind, d.stage, count(*)::int, count(*) FILTER (WHERE \(fragment: DutyStore.isOverdue(at: now)))::int
                FROM deadlines d WHERE d.state IN ('running', 'paused') GROUP BY d.holder_kind, d.stage ORDER BY d.holder_kind, d.stage
                """,
                """
                WITH spans AS (
                    SELECT agency_code, 'acknowledge' AS stage, greatest(0, extract(epoch FROM acknowledged_at - delivered_at))::float8 AS seconds
                    FROM task_timelines WHERE acknowledged_at IS NOT NULL AND delivered_at IS NOT NULL
                    UNION ALL
                    SELECT agency_code, 'resolve', greatest(0, extract(epoch FROM resolved_at - delivered_at))::float8
                    FROM task_timelines WHERE resolved_at IS NOT NULL AND delivered_at IS NOT NULL
                )
                SELECT agency_code::text, stage, count(*)::int, sum(seconds)::float8, \(unescaped: buckets)
                FROM spans GROUP BY agency_code, stage ORDER BY agency_code, stage
                """,
                // The outbox holds only unsent events (the relay deletes what it delivers), oldest id first.
                """
                SELECT (SELECT count(*) FROM outbox)::int,
                       coalesce(greatest(0, extract(epoch FROM \(now) - (SELECT created_at FROM outbox ORDER BY id LIMIT 1))), 0)::float8,
                       (SELECT count(*) FROM deadline_timers WHERE next_at <= \(now))::int,
                       coalesce(extract(epoch FROM \(now) - (SELECT min(next_at) FROM deadline_timers WHERE next_at <= \(now))), 0)::float8
                """,
            ])
        }
        let duties = try results[0].map { row in
            let (kind, stage, open, overdue) = try row.decode((String, String, Int, Int).self)
            return DatabaseMetricsSnapshot.Duties(holderKind: kind, stage: stage, open: open, overdue: overdue)
        }
        let latencies = try results[1].map { row -> DatabaseMetricsSnapshot.Latency in
            let agency = try row.decode(column: 0, as: String.self)
            let stage = LatencyStage(rawValue: try row.decode(column: 1, as: String.self)) ?? .resolve
            let counts = try (0..<DatabaseMetricsSnapshot.bucketSeconds.count).map { try row.decode(column: 4 + $0, as: Int.self) }
            return DatabaseMetricsSnapshot.Latency(
                agency: agency, stage: stage, buckets: counts, count: try row.decode(column: 2, as: Int.self),
                sum: try row.decode(column: 3, as: Double.self))
        }
        let (unsent, oldestUnsent, due, oldestDue) = try results[2][0].decode((Int, Double, Int, Double).self)
        let backlog = DatabaseMetricsSnapshot.Backlog(
            unsentEvents: unsent, oldestUnsentSeconds: oldestUnsent, dueRungs: due, oldestDueRungSeconds: oldestDue)
        return DatabaseMetricsSnapshot(duties: duties, latencies: latencies, backlog: backlog)
    }
}
