import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwirePages
import TipwireStore

/// The coordinators' dashboard (docs/dashboard.md): the figures, the overdue board, escalations and the
/// scorecard under `/dashboard`, for a coordinator's session or, scoped to its own figures, an agency's.
/// Every failure is a page in the reader's language, never a problem document or a 500.
struct CoordinatorPages: Sendable {
    let stores: TipwireStores
    let pages: Pages

    var handlers: [String: WebRoutes.Handler] {
        [
            "GET /dashboard": overview,
            "GET /dashboard/agencies": agencies,
            "GET /dashboard/agencies/{code}": agency,
            "GET /dashboard/tasks": tasks,
            "GET /dashboard/overdue": overdue,
            "GET /dashboard/escalations": escalations,
            "POST /dashboard/escalations/{id}/acknowledge": acknowledge,
            "GET /dashboard/scorecard": { try await scorecard($0, $1, csv: false) },
            "GET /dashboard/scorecard.csv": { try await scorecard($0, $1, csv: true) },
        ]
    }

    // MARK: - Pages

    @Sendable func overview(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        var choice = try await period(request, visit)
        let period = choice.period
        // The whole period's figures (its medians are not a sum of the months'), the months for the trend,
        // and the period of the same length before it.
        var whole = StatsFilter(period: period, grouping: .all)
        whole.agency = visit.agency
        var monthly = whole
        monthly.grouping = .month
        let length = period.to.number - period.from.number + 1
        var previous = whole
        previous.period = StatsPeriod(from: CalendarDay(number: period.from.number - length), to: CalendarDay(number: period.from.number - 1))
        let now = Date()
        // Independent reads, each on a connection of its own: the page waits for the slowest, not the sum.
        async let thisPeriod = report(whole, visit)
        async let months = report(monthly, visit)
        async let before = report(previous, visit)
        async let board = stores.duties.overdue(at: now, holder: visit.agency, perGroup: 1)
        async let open = stores.duties.escalationCount(EscalationFilter(acknowledged: false), for: visit.actor)
        let figures = try await thisPeriod
        choice.figuresAsOf = figures.figuresAsOf
        return Web.html(
            .ok,
            pages.overview(
                reader: visit.reader, period: choice, whole: figures, monthly: try await months, previous: try await before,
                overdue: try await board.groups.map(\.count).reduce(0, +), openEscalations: try await open))
    }

    @Sendable func agencies(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        if let own = visit.agency { return Web.redirect("/dashboard/agencies/\(own.rawValue)") }
        var period = try await period(request, visit)
        let query = request.uri.queryParameters
        let sort = query.get("sort") ?? "name"
        let report = try await report(StatsFilter(period: period.period), visit)
        period.figuresAsOf = report.figuresAsOf
        return Web.html(.ok, pages.agencies(reader: visit.reader, period: period, report: report, sort: sort, descending: query.get("dir") != "asc"))
    }

    @Sendable func agency(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let code = context.parameters.get("code") ?? ""
        let wording = visit.reader.wording
        guard let agency = PartyCode(rawValue: code), visit.agency == nil || visit.agency == agency else {
            throw PageFailure.notFound(wording)
        }
        var period = try await period(request, visit)
        let filter = StatsFilter(period: period.period, agency: agency)
        let report = try await report(filter, visit)
        period.figuresAsOf = report.figuresAsOf
        let name = try await stores.stats.agencyName(agency)
        guard let name else { throw PageFailure.notFound(wording) }
        let figures =
            report.groups.first
            ?? GroupFigures(
                key: agency.rawValue, name: name, tasks: 0,
                stages: LatencyStage.taskStages.map {
                    StageFigures(stage: $0, count: 0, hours: nil, workingDays: nil, judged: 0, onTime: 0, minimumSample: filter.minimumSample)
                }, backlog: [:], extensions: 0, transfers: 0, declines: 0, escalations: 0, accountedFor: 0, minimumSample: filter.minimumSample)
        let distribution = try await stores.stats.acknowledgeDistribution(filter)
        let escalations = try await stores.duties.escalations(EscalationFilter(limit: 20), for: .agency(agency))
        return Web.html(
            .ok, pages.agency(reader: visit.reader, period: period, figures: figures, distribution: distribution, escalations: escalations))
    }

    @Sendable func tasks(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let query = request.uri.queryParameters
        let wording = visit.reader.wording
        var agency: PartyCode?
        if let code = query.get("agency"), !code.isEmpty {
            guard let parsed = PartyCode(rawValue: code) else {
                throw PageFailure(status: .badRequest, title: wording["bad-request"], detail: "agency: \(PartyCode.validate(code) ?? "")")
            }
            agency = parsed
        }
        let cursor = try Web.cursor(request, visit)
        let openOnly = query.get("open") == "1"
        let page = try await stores.tasks.list(TaskFilter(agency: agency, openOnly: openOnly, after: cursor, limit: 50), for: visit.actor)
        return Web.html(.ok, pages.tasks(reader: visit.reader, page: page, agency: visit.agency ?? agency, openOnly: openOnly))
    }

    @Sendable func overdue(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let board = try await stores.duties.overdue(at: Date(), holder: visit.agency, perGroup: 50)
        return Web.html(.ok, pages.overdue(reader: visit.reader, board: board))
    }

    @Sendable func escalations(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let query = request.uri.queryParameters
        let wording = visit.reader.wording
        let cursor = try Web.cursor(request, visit)
        let state = query.get("state").flatMap { $0.isEmpty ? nil : $0 }
        let acknowledged: Bool?
        switch state {
        case nil: acknowledged = nil
        case "open": acknowledged = false
        case "acknowledged": acknowledged = true
        default: throw PageFailure(status: .badRequest, title: wording["bad-request"], detail: "state: open | acknowledged")
        }
        let page = try await stores.duties.escalations(EscalationFilter(acknowledged: acknowledged, after: cursor, limit: 50), for: visit.actor)
        return Web.html(
            .ok, pages.escalations(reader: visit.reader, page: page, state: state, notice: query.get("done") == "1" ? wording["done"] : nil))
    }

    @Sendable func acknowledge(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let visit = try context.visit()
        let id = context.parameters.get("id") ?? ""
        let wording = visit.reader.wording
        guard visit.agency == nil else { throw PageFailure(status: .forbidden, title: "403", detail: wording["not-found-text"]) }
        guard let uuid = UUID(uuidString: id) else {
            throw PageFailure.notFound(wording)
        }
        let note = (visit.form["note"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if let problem = TextRules.problem(note, length: 1...2000, multiline: true, blankAllowed: false) {
            throw PageFailure(status: .badRequest, title: wording["bad-request"], detail: "\(wording["note"]): \(problem)")
        }
        let result = try await stores.duties.acknowledge(uuid, note: note, by: visit.session.principal.actor, idempotency: .unclaimed)
        switch result {
        case .answered(_, .acknowledged), .refused(.acknowledged): return Web.redirect("/dashboard/escalations?done=1")
        case .answered(_, .notFound), .refused(.notFound):
            throw PageFailure.notFound(wording)
        case .answered(_, .alreadyAcknowledged(let by, let at)), .refused(.alreadyAcknowledged(let by, let at)):
            throw PageFailure(status: .conflict, title: "409", detail: "\(wording["acknowledged-by"]) \(by), \(wording.dateTime(at))")
        case .replayed, .keyReused:
            return Web.redirect("/dashboard/escalations?done=1")
        }
    }

    func scorecard(_ request: Request, _ context: TipwireRequestContext, csv: Bool) async throws -> Response {
        let visit = try context.visit()
        let wording = visit.reader.wording
        let text = request.uri.queryParameters.get("year") ?? String(WorkingCalendar.dayOf(Date()).year)
        guard let year = Int(text), StatsPeriod.years.contains(year) else {
            throw PageFailure(
                status: .badRequest, title: wording["bad-request"],
                detail: "\(wording["year"]): \(StatsPeriod.years.lowerBound)–\(StatsPeriod.years.upperBound)")
        }
        let scorecard = try await stores.stats.scorecard(year: year, scope: visit.scope)
        if csv { return ScorecardFormat.csv.response(scorecard, pages: pages, reader: visit.reader) }  // the same CSV as the API's
        return Web.html(.ok, pages.scorecard(reader: visit.reader, scorecard: scorecard))
    }

    // MARK: - Helpers

    func report(_ filter: StatsFilter, _ visit: WebVisit) async throws -> LatencyReport {
        do {
            return try await stores.stats.latency(filter, scope: visit.scope, language: visit.language)
        } catch StatsRefusal.unknown(let field, let code) {
            let wording = visit.reader.wording
            throw PageFailure(status: .notFound, title: wording["not-found"], detail: "\(field): \(code)")
        }
    }

    /// The period asked for: `period` (a named period; the picker's form), else `from` and `to` (the range
    /// form), else the reporting year to date. The picker sends no dates, the range form no name.
    func period(_ request: Request, _ visit: WebVisit) async throws -> PeriodChoice {
        let query = request.uri.queryParameters
        func given(_ name: String) -> String? { query.get(name).flatMap { $0.isEmpty ? nil : $0 } }
        let today = WorkingCalendar.dayOf(Date())
        let calendar = try await stores.stats.reportingCalendar()
        do {
            if let name = given("period") {
                let period = try StatsPeriod.parse(period: name, from: nil, to: nil, today: today, calendar: calendar)
                return PeriodChoice(period: period, kind: NamedPeriod(name).map { .named($0) } ?? .range, today: today, calendar: calendar)
            }
            if given("from") != nil || given("to") != nil {
                let period = try StatsPeriod.parse(from: given("from"), to: given("to"), today: today)
                return PeriodChoice(period: period, kind: .range, today: today, calendar: calendar)
            }
            return PeriodChoice(
                period: .reportingYearToDate(today: today, calendar: calendar), kind: .reportingYearToDate, today: today, calendar: calendar)
        } catch {
            throw PageFailure(
                status: .badRequest, title: visit.reader.wording["bad-request"], detail: error.description, errors: error.errors.map(\.description))
        }
    }
}
