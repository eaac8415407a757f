import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Postgres
import Prometheus
import TipwireAPI
import TipwireCommandLine
import TipwireCore
import TipwireStore

struct BenchDashboard: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "The dashboard's pages, the stats endpoint and a year's scorecard over 1,000,000 tasks vs pgbench running their SQL.",
        discussion: """
            In one run, against the database in TIPWIRE_DATABASE_URL, in a schema of its own
            (tipwire_bench_dashboard, dropped first):
              1. writes --findings findings (two tasks each) over the last --days days, with the events a year of
                 work leaves (delivery, acknowledgement, start, extensions, resolution, duty clocks met or
                 running, overdue notices); task_timelines follows by its triggers, as in service.
              2. times, with the API running in this process, one coordinator's requests (median of --repeats
                 after one warm-up), each for a named period (the last whole reporting quarter) and for a
                 range of days ragged at both ends: GET /dashboard (the overview: the whole period, its
                 months, and the period before), the agency so-nnmt's page, GET /v1/stats/latency by
                 agency and by month; then the overdue board and GET /v1/scorecards/YEAR?format=csv.
                 Targets: under 300 ms each, and at least 100× faster than the baseline.
              3. as the baseline, pgbench runs the exact analytics SQL of each page (the statements the exact
                 path sends, with their parameters written in) as one script per page, --repeats times.
              4. compares every report the pages read, from the rollups, with the exact path's: every exact
                 figure must be equal, and it prints per report the largest relative error of an hour
                 percentile (≤ 1%).
            The rollups are folded from the timelines after step 1, as `tipwire stats rebuild` would.
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Findings to write; each has two tasks.")
    var findings: Int = 500_000

    @Option(help: "Days of history, ending now.")
    var days: Int = 365

    @Option(help: "Timed requests per page (and pgbench transactions per script); the figure is their median.")
    var repeats: Int = 7

    @Flag(help: "Keep the schema afterwards, to look into it with psql (search_path=tipwire_bench_dashboard).")
    var keepSchema = false

    @Flag(help: "Time the pages over the tasks a --keep-schema run left, with today's migrations, instead of writing them again.")
    var reuseSchema = false

    static let schema = "tipwire_bench_dashboard"

    func validate() throws {
        guard findings > 0, days > 0, repeats > 0 else { throw ValidationError("--findings, --days and --repeats must be positive") }
    }

    func run() async throws {
        var quiet = Logger(label: "tipwire.bench")
        quiet.logLevel = .error
        let bench = try await BenchSchema.create(
            Self.schema, url: try database.databaseURL(), maxConnections: 8, reuse: reuseSchema, logger: quiet)
        let client = bench.client
        print("bench dashboard: synchronous_commit=\(bench.durability.synchronousCommit), fsync=\(bench.durability.fsync)")

        let now = Date()
        let started = ContinuousClock.now
        if reuseSchema {
            print("reusing the tasks of the schema \(Self.schema)")
        } else {
            print("writing \(findings) findings, \(2 * findings) tasks and their events over \(days) days …")
            try await SyntheticLoad.history(
                findings: findings, start: now.addingTimeInterval(-Double(days) * 86_400), end: now, now: now, on: client,
                progress: { done in
                    print("  \(done) findings …")
                    fflush(nil)  // progress shows at once even when the output goes to a file
                })
        }
        try await client.execute("VACUUM ANALYZE")
        try await client.execute("CHECKPOINT")
        let counts = try await client.query(
            "SELECT (SELECT count(*) FROM tasks), (SELECT count(*) FROM task_events), (SELECT count(*) FROM deadline_rungs)"
        )[0].decode((Int, Int, Int).self)
        print(
            String(
                format: "  %d tasks, %d task events, %d overdue notices in %.0f s", counts.0, counts.1, counts.2,
                started.duration(to: .now) / .seconds(1)))

        let folding = ContinuousClock.now
        try await DatabaseScope.system { try await StatsRollups(client: client).foldAll(now: now) }
        print(String(format: "  the rollups folded from the timelines in %.0f s", folding.duration(to: .now) / .seconds(1)))

        let stores = bench.stores(logger: quiet)
        let (bearer, _) = try await stores.tokens.create(role: .coordinator, scope: PartyCode(rawValue: "thanh-tra-tp"), holder: "tipwire bench")
        guard case .valid(let principal) = try await DatabaseScope.system({ try await stores.tokens.authenticate(bearer) }) else {
            throw ValidationError("the bench's coordinator token does not authenticate")
        }
        let (session, _) = try await DatabaseScope.system { try await stores.sessions.open(for: principal) }
        let port = try freeTCPPort()
        let app = buildApplication(
            host: "127.0.0.1", port: port, dependencies: APIDependencies(stores: stores, rateLimit: nil), checks: [],
            registry: PrometheusCollectorRegistry(), version: TipwireVersion.current, logger: quiet)
        let server = Task { try await app.run() }
        defer { server.cancel() }
        try await waitForServer(port: port)

        // Every page for a named period (the reporting quarter that ended most recently) and for an arbitrary
        // range of days (from 270 to 77 days ago: ragged at both ends), the overdue board and the year's scorecard.
        let today = WorkingCalendar.dayOf(now)
        let calendar = try await stores.stats.reportingCalendar()
        let lastMonth = calendar.month(containing: CalendarDay(number: today.number - 92))
        guard case .month(let month) = lastMonth.span else { throw ValidationError("no reporting month") }
        let quarter = NamedPeriod(reporting: true, year: lastMonth.year, span: .quarter((month + 2) / 3))
        let range = StatsPeriod(from: CalendarDay(number: today.number - 270), to: CalendarDay(number: today.number - 77))
        let periods: [(label: String, query: String, period: StatsPeriod)] = [
            (quarter.description, "period=\(quarter)", quarter.period(in: calendar)), ("\(range)", "from=\(range.from)&to=\(range.to)", range),
        ]
        let year = today.year
        let cookie = [("Cookie", "tipwire_session=\(session)")]
        let bearerHeader = [("Authorization", "Bearer \(bearer.text)")]
        var pages: [(name: String, path: String, headers: [(String, String)], statements: [PostgresQuery])] = []
        for (label, query, period) in periods {
            let whole = StatsFilter(period: period, grouping: .all)
            var monthly = whole
            monthly.grouping = .month
            let length = period.to.number - period.from.number + 1
            var before = whole
            before.period = StatsPeriod(from: CalendarDay(number: period.from.number - length), to: CalendarDay(number: period.from.number - 1))
            let agency = StatsFilter(period: period, agency: PartyCode(rawValue: "so-nnmt"))
            pages += [
                (
                    "overview, \(label)", "/dashboard?\(query)", cookie,
                    [whole, monthly, before].flatMap { Self.exactStatements($0, now: now) }
                ),
                (
                    "agency so-nnmt, \(label)", "/dashboard/agencies/so-nnmt?\(query)", cookie,
                    Self.exactStatements(agency, now: now) + [StatsStore.acknowledgeDistributionStatement(agency, now: now)]
                ),
                (
                    "stats by agency, \(label)", "/v1/stats/latency?\(query)", bearerHeader,
                    Self.exactStatements(StatsFilter(period: period), now: now)
                ),
                (
                    "stats by month, \(label)", "/v1/stats/latency?\(query)&group_by=month", bearerHeader,
                    Self.exactStatements(StatsFilter(period: period, grouping: .month), now: now)
                ),
            ]
        }
        pages += [
            ("overdue board", "/dashboard/overdue", cookie, [DutyStore.overdueStatement(at: now, holder: nil, perGroup: 50)]),
            (
                "scorecard \(year) CSV", "/v1/scorecards/\(year)?format=csv", bearerHeader,
                Self.exactStatements(StatsFilter(period: try StatsPeriod.year(year)), now: now)
            ),
        ]

        print("")
        print(
            "page                                          ours (median of \(repeats))   pgbench, same SQL   pgbench ÷ ours (target ≥ 100×)   "
                + "target < 300 ms")
        var allMet = true
        for page in pages {
            let ours = try await time(page.path, headers: page.headers, port: port)
            let script = try await writePgbenchScript(page.statements, client: client, name: "dashboard")
            defer { try? FileManager.default.removeItem(atPath: script) }
            let reference = try await pgbenchLatency(url: bench.pgbenchURL, script: script, transactions: repeats)
            let met = ours < 300 && reference / ours >= 100
            allMet = allMet && met
            print(
                String(
                    format: "%@ %10.1f ms %17.1f ms %14.1f× %@   %@", page.name.padding(toLength: 46, withPad: " ", startingAt: 0), ours, reference,
                    reference / ours, reference / ours >= 100 ? "meets" : "BELOW", ours < 300 ? "meets" : "ABOVE"))
        }
        print("")
        print(allMet ? "every page meets both targets" : "some pages miss a target")

        // Every report the pages read, from the rollups against the exact path.
        print("")
        print("report (rollups vs exact path)                         exact figures   largest hour error (target ≤ 1%)")
        var accurate = true
        for (label, _, period) in periods + [("year \(year)", "", try StatsPeriod.year(year))] {
            let agency = PartyCode(rawValue: "so-nnmt")
            let filters: [(String, StatsFilter)] = [
                ("all", StatsFilter(period: period, grouping: .all)), ("by month", StatsFilter(period: period, grouping: .month)),
                ("by agency", StatsFilter(period: period)), ("so-nnmt", StatsFilter(period: period, agency: agency)),
                ("so-nnmt by month", StatsFilter(period: period, grouping: .month, agency: agency)),
            ]
            for (name, filter) in filters {
                let rolledUp = try await DatabaseScope.system { try await stores.stats.latency(filter, scope: .everything, now: now) }
                let exact = try await DatabaseScope.system {
                    try await stores.stats.latency(filter, scope: .everything, source: .exact, now: now)
                }
                let comparison = RollupComparison(rollups: rolledUp, exact: exact)
                accurate = accurate && comparison.mismatches.isEmpty
                let worst = comparison.largestHourError.max { $0.value < $1.value }
                print(
                    String(
                        format: "%@ %@   %.3f%% (%@, of %d groups)", "\(label), \(name)".padding(toLength: 54, withPad: " ", startingAt: 0),
                        (comparison.mismatches.isEmpty ? "equal" : "DIFFER").padding(toLength: 13, withPad: " ", startingAt: 0),
                        comparison.largest * 100, worst?.key ?? "-", comparison.largestHourError.count))
                for mismatch in comparison.mismatches.prefix(5) { print("    \(mismatch)") }
            }
        }
        print(accurate ? "every exact figure equals the exact path's; every hour percentile is within 1%" : "some figures differ")

        server.cancel()
        if keepSchema {
            client.close()
            bench.admin.close()
        } else {
            try await bench.drop(Self.schema)
        }
    }

    /// The exact path's SQL of a report: what the pages sent before the rollups, the baseline.
    static func exactStatements(_ filter: StatsFilter, now: Date) -> [PostgresQuery] {
        StatsStore.reportStatements(filter, now: now) + [StatsStore.newsroomAnswers(filter: filter, now: now)]
    }

    /// The median time of `repeats` GETs of `path`, in milliseconds, after one warm-up; each must answer 200.
    private func time(_ path: String, headers: [(String, String)], port: Int) async throws -> Double {
        let repeats = repeats
        let times = try await runOnThread { () -> [Double] in
            let connection = try BlockingHTTPConnection(port: port)
            var times: [Double] = []
            for attempt in 0...repeats {
                let started = ContinuousClock.now
                let status = try connection.send(method: "GET", path: path, headers: headers, body: [])
                guard status == 200 else { throw ValidationError("GET \(path) answered \(status)") }
                if attempt > 0 { times.append(started.duration(to: .now) / .milliseconds(1)) }
            }
            return times
        }
        return percentile(times.sorted(), 50)
    }
}
