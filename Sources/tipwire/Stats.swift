import ArgumentParser
import Foundation
import TipwireCommandLine
import TipwireCore
import TipwireStore

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "How fast agencies respond: the report (as GET /v1/stats/latency), and rebuilding its sums.",
        subcommands: [StatsReport.self, StatsRebuild.self], defaultSubcommand: StatsReport.self)
}

struct StatsRebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild",
        abstract: "Recompute every task's timeline from the task events, then every rollup from the timelines.",
        discussion: """
            The task events are the one source of truth; the timelines and the rollups the
            pages read are sums of them (docs/analytics.md#rollups). Run this after a restore,
            after changing how a stage is measured, or to check them: the figures it leaves
            must equal `tipwire stats --exact`. The deadline engine keeps the rollups in step
            otherwise, within seconds. Prints progress in days folded.
            """)

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await database.withStores { stores in
            try await DatabaseScope.system {
                let count = try await stores.stats.rebuildTimelines()
                print("rebuilt \(count) task timelines from the task events")
                let started = ContinuousClock.now
                try await StatsRollups(client: stores.database.client).rebuild { days in
                    print("  \(days) days folded …")
                    fflush(nil)
                }
                print(String(format: "rebuilt the rollups in %.1f s", started.duration(to: .now) / .seconds(1)))
            }
        }
    }
}

struct StatsReport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print how fast agencies respond, from the rollups (as GET /v1/stats/latency); the default.",
        discussion: """
            One line per group: tasks assigned in the period (after the agency joined),
            acknowledge and resolve times as p50/p90/p99 in working days with the share
            met on time, open tasks, overdue notices and escalations raised, and the
            share accounted for. Groups below --min-sample show "insufficient data".
            Working days follow the calendar (tipwire calendar import). The method is
            in docs/analytics.md.

            Examples:
              tipwire stats                                 every agency, the last 365 days
              tipwire stats --from 2026-01-01 --to 2026-06-30 --group-by category
              tipwire stats --period report-2026-Q3          the reporting quarter (15 June to 14 September)
              tipwire stats --agency so-nnmt --group-by month    one agency's trend
              tipwire stats --json                          the API's JSON
              tipwire stats --exact                         computed from the timelines, not the rollups
              tipwire stats rebuild                         recompute the timelines and the rollups
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(
        help: """
            A named period instead of --from/--to: 2026, 2026-H1, 2026-9M, 2026-Q3, 2026-11 (calendar), or report-2026, \
            report-2026-Q4, report-2026-11, … (reporting periods: from the 15th of the month before to the 14th, \
            `tipwire calendar reporting`).
            """)
    var period: String?

    @Option(help: "First day (YYYY-MM-DD, Hanoi time); default 364 days before --to.")
    var from: String?

    @Option(help: "Last day, included (YYYY-MM-DD); default today.")
    var to: String?

    @Option(help: "Group by agency, category, jurisdiction or month; all: one group of everything.")
    var groupBy: String = StatsGrouping.agency.rawValue

    @Option(help: "Only this agency's tasks.")
    var agency: String?

    @Option(help: "Only this category's tasks.")
    var category: String?

    @Option(help: "Only this jurisdiction's tasks.")
    var jurisdiction: String?

    @Option(help: "Figures over fewer tasks than this are withheld (1 to 1000).")
    var minSample = StatsFilter.defaultMinimumSample

    @Flag(help: "Print JSON, as GET /v1/stats/latency answers.")
    var json = false

    @Flag(help: "Compute from the timelines instead of the rollups: exact hours, slow over millions of tasks.")
    var exact = false

    func validate() throws {
        guard StatsGrouping(rawValue: groupBy) != nil else {
            throw ValidationError("--group-by must be one of: \(StatsGrouping.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for (flag, code) in [("--agency", agency), ("--jurisdiction", jurisdiction)] {
            if let code, PartyCode(rawValue: code) == nil { throw ValidationError("\(flag): '\(code)' is not a code") }
        }
        try checkRange(minSample, 1...1000, "--min-sample")
        _ = try filter(calendar: .decree09)  // the names and dates; the database's calendar cuts the period in run()
    }

    func filter(calendar: ReportingCalendar) throws -> StatsFilter {
        do {
            let period = try StatsPeriod.parse(period: period, from: from, to: to, today: WorkingCalendar.dayOf(Date()), calendar: calendar)
            return StatsFilter(
                period: period, grouping: StatsGrouping(rawValue: groupBy) ?? .agency, agency: agency.flatMap(PartyCode.init(rawValue:)),
                category: category, jurisdiction: jurisdiction.flatMap(PartyCode.init(rawValue:)), minimumSample: minSample)
        } catch {
            throw ValidationError(error.errors.map { "--\($0.field): \($0.reason)" }.joined(separator: "; "))
        }
    }

    func run() async throws {
        try await database.withStores { stores in
            let filter = try filter(calendar: try await stores.calendar.reportingCalendar())
            let report: LatencyReport
            do {
                report = try await stores.stats.latency(filter, scope: .everything, source: exact ? .exact : .rollups)
            } catch StatsRefusal.unknown(let field, let code) {
                throw ValidationError("--\(field): no \(field) '\(code)'")
            }
            if json {
                print(String(decoding: try TipwireJSON.encode(report), as: UTF8.self))
                return
            }
            print(Self.table(report))
        }
    }

    static func table(_ report: LatencyReport) -> String {
        var lines = [
            "Tasks assigned \(report.period.from) to \(report.period.to) by \(report.groupBy.rawValue); times in working days (p50/p90/p99)."
        ]
        if let findings = report.findings {
            lines.append("\(findings.received) findings, \(findings.accountedFor) accounted for (\(percent(findings.share))).")
        }
        guard !report.groups.isEmpty else { return (lines + ["No task in this period."]).joined(separator: "\n") }
        let header = ["GROUP", "TASKS", "ACKNOWLEDGE", "ON TIME", "RESOLVE", "ON TIME", "OPEN", "ESCALATIONS", "ACCOUNTED"]
        var rows = [header]
        for group in report.groups {
            let acknowledge = group[.acknowledge]
            let resolve = group[.resolve]
            rows.append([
                group.key, "\(group.tasks)", quantiles(acknowledge), percent(acknowledge?.onTimeShare), quantiles(resolve),
                percent(resolve?.onTimeShare),
                "\(group.openTasks)", "\(group.escalations)", percent(group.accountedShare),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        lines.append("")
        for row in rows {
            lines.append(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
        if report.groups.contains(where: { $0.stages.contains(where: \.insufficientData) }) {
            lines.append("")
            lines.append("\"insufficient data\": fewer than \(report.minimumSample) tasks (--min-sample).")
        }
        return lines.joined(separator: "\n")
    }

    static func quantiles(_ figures: StageFigures?) -> String {
        guard let figures, let days = figures.workingDays else { return "insufficient data" }
        return [days.p50, days.p90, days.p99].map { String(Int($0)) }.joined(separator: "/")
    }

    static func percent(_ share: Double?) -> String {
        guard let share else { return "–" }
        return String(format: "%.0f%%", share * 100)
    }
}
