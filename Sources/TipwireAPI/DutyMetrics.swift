import Foundation
import Logging
import TipwireCore
import TipwireStore

/// The figures of `/metrics` that live in the database: open and overdue duties (gauges) and the
/// acknowledge and resolve latency by agency (histograms, over every task). Read at most every
/// `maximumAge`, so scrapes cost the database little; every instance reports the same values
/// (aggregate them with `max`, not `sum`).
actor DutyMetrics {
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

    static func render(_ snapshot: DutyMetricsSnapshot) -> String {
        var lines: [String] = []
        for (name, help, value) in [
            ("tipwire_duties_open", "Duty clocks running or paused, by holder kind and stage.", \DutyMetricsSnapshot.Duties.open),
            ("tipwire_duties_overdue", "Open duty clocks past their due time, by holder kind and stage.", \DutyMetricsSnapshot.Duties.overdue),
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
                for (bound, count) in zip(DutyMetricsSnapshot.bucketSeconds, latency.buckets) {
                    lines.append("\(name)_bucket{\(agency),le=\"\(Int(bound))\"} \(count)")
                }
                lines.append("\(name)_bucket{\(agency),le=\"+Inf\"} \(latency.count)")
                lines.append("\(name)_sum{\(agency)} \(latency.sum)")
                lines.append("\(name)_count{\(agency)} \(latency.count)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
