import ArgumentParser
import Foundation
import TipwireCommandLine
import TipwireCore
import TipwireStore

struct ScorecardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scorecard",
        abstract: "Print an agency-by-agency annual scorecard, recomputed from the task events (as GET /v1/scorecards/{year}).",
        discussion: """
            Every agency that had joined by the year's end gets a row: tasks assigned in
            the year, acknowledge and resolve times in working days (p50/p90) with the
            share on time, open tasks, escalations, extensions, transfers, declines and
            the share accounted for. The method (what counts as on time, the calendar,
            exclusions, the minimum sample) is printed with it. The same events always
            give the same figures.

            Examples:
              tipwire scorecard 2026                    a table
              tipwire scorecard 2026 --csv > 2026.csv   RFC 4180 CSV, the method as # lines
              tipwire scorecard 2026 --json --lang en
            """)

    @OptionGroup var database: DatabaseOptions

    @Argument(help: "The year (2000 to 2100).")
    var year: Int

    @Flag(help: "Print CSV.")
    var csv = false

    @Flag(help: "Print JSON.")
    var json = false

    @Option(help: "Language of the method and names: vi or en.")
    var lang = Language.vietnamese.rawValue

    @Option(help: "Figures over fewer tasks than this are withheld (1 to 1000).")
    var minSample = StatsFilter.defaultMinimumSample

    func validate() throws {
        try checkRange(year, StatsPeriod.years, "the year")
        try checkRange(minSample, 1...1000, "--min-sample")
        guard Language(rawValue: lang) != nil else { throw ValidationError("--lang must be vi or en") }
        if csv && json { throw ValidationError("choose one of --csv and --json") }
    }

    func run() async throws {
        let language = Language(rawValue: lang) ?? .vietnamese
        try await database.withStores { stores in
            let scorecard = try await stores.stats.scorecard(year: year, scope: .everything, minimumSample: minSample)
            if csv {
                FileHandle.standardOutput.write(Data(scorecard.csv(language).utf8))
            } else if json {
                print(String(decoding: try TipwireJSON.encode(scorecard), as: UTF8.self))
            } else {
                for line in scorecard.method(language) { print(line) }
                print("")
                let header = ["AGENCY", "TASKS", "ACK p50/p90", "ON TIME", "RESOLVE p50/p90", "ON TIME", "OPEN", "ESCALATIONS", "ACCOUNTED"]
                var rows = [header]
                for row in scorecard.rows {
                    let f = row.figures
                    rows.append([
                        row.agency, "\(f.tasks)", Self.pair(f[.acknowledge]), StatsReport.percent(f[.acknowledge]?.onTimeShare),
                        Self.pair(f[.resolve]),
                        StatsReport.percent(f[.resolve]?.onTimeShare), "\(f.openTasks)", "\(f.escalations)", StatsReport.percent(f.accountedShare),
                    ])
                }
                let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
                for row in rows { print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")) }
            }
        }
    }

    static func pair(_ figures: StageFigures?) -> String {
        guard let days = figures?.workingDays else { return "insufficient data" }
        return "\(Int(days.p50))/\(Int(days.p90)) wd"
    }
}
