import Foundation
import Logging
import TipwireCore
import TipwireStore

/// The figures of `/metrics` that live in the database: open and overdue duties (gauges), the
/// acknowledge and resolve latency by agency (histograms, over every task), and the pipeline's backlog
/// (gauges: events not yet in Kafka, rungs due but not raised). Read at most every `maximumAge`, so
/// scrapes cost the database little; every process reports the same values (aggregate them with
/// `max`, not `sum`).
actor DatabaseMetrics {
    let stats: StatsStore
    let maximumAge: TimeInterval
    private var cached: (text: String, at: Date)?

    init(stats: StatsStore, maximumAge: TimeInterval = 30) {
        self.stats = stats
        self.maximumAge = maximumAge
    }

    /// The exposition text; empty when the database cannot be read (`/healthz` says why).
    func text(now: Date = Date()) async -> String {
        if let cached, now.timeIntervalSince(cached.at) < maximumAge { return cached.text }
        guard let snapshot = try? await DatabaseScope.system({ try await stats.metricsSnapshot(now: now) }) else { return cached?.text ?? "" }
        let text = Self.render(snapshot)
        cached = (text, now)
        return text
    }

    static func render(_ snapshot: DatabaseMetricsSnapshot) -> String {
        var lines: [String] = []
        for (name, help, value) in [
            ("tipwire_duties_open", "Duty clocks running or paused, by holder kind and stage.", \DatabaseMetricsSnapshot.Duties.open),
            (
                "tipwire_duties_overdue", "Running duty clocks past their due time (a paused clock never is), by holder kind and stage.",
                \DatabaseMetricsSnapshot.Duties.overdue
            ),
        ] {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) gauge")
            for duty in snapshot.duties {
                lines.append("\(name){holder_kind=\"\(duty.holderKind)\",stage=\"\(duty.stage)\"} \(duty[keyPath: value])")
            }
        }
        for stage in [LatencyStage.acknowledge, .resolve] {
            let name = "tipwire_task_\(stage.rawValue)_latency_seconds"
            lines.append("# HELP \(name) Time from delivery to the agency's first \(stage.rawValue), by agency, over every task.")
            lines.append("# TYPE \(name) histogram")
            for latency in snapshot.latencies where latency.stage == stage {
                let agency = "agency=\"\(latency.agency)\""
                for (bound, count) in zip(DatabaseMetricsSnapshot.bucketSeconds, latency.buckets) {
                    lines.append("\(name)_bucket{\(agency),le=\"\(Int(bound))\"} \(count)")
                }
                lines.append("\(name)_bucket{\(agency),le=\"+Inf\"} \(latency.count)")
                lines.append("\(name)_sum{\(agency)} \(latency.sum)")
                lines.append("\(name)_count{\(agency)} \(latency.count)")
            }
        }
        let backlog = snapshot.backlog
        for (name, help, value) in [
            ("tipwire_outbox_unsent_events", "Events committed to the outbox and not yet delivered to Kafka.", Double(backlog.unsentEvents)),
            (
                "tipwire_outbox_oldest_unsent_age_seconds", "Seconds the oldest undelivered event has waited in the outbox (0: none waits).",
                backlog.oldestUnsentSeconds
            ),
            (
                "tipwire_deadline_rungs_due", "Ladder rungs whose time has come and which the deadline engine has not raised yet.",
                Double(backlog.dueRungs)
            ),
            (
                "tipwire_deadline_engine_lag_seconds", "Seconds since the oldest unraised rung fell due (0: the engine is up to date).",
                backlog.oldestDueRungSeconds
            ),
        ] {
            lines.append("# HELP \(name) \(help)")
            lines.append("# TYPE \(name) gauge")
            lines.append("\(name) \(value)")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
