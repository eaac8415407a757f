import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TipwireCore
import TipwirePages
import TipwireStore

/// The coordinators' web dashboard (docs/dashboard.md): server-rendered pages under `/dashboard`, signed
/// in with a session cookie for which a coordinator's or an agency's token was exchanged. Every failure
/// is a page in the reader's language, never a problem document or a 500.
struct DashboardController {
    let stores: TipwireStores
    let pages: Pages

    static let sessionCookie = "tipwire_session"
    static let languageCookie = "tipwire_lang"
    static let signInCookie = "tipwire_signin"
    static let roles: Set<Role> = [.coordinator, .agency]

    func addRoutes(to router: Router<TipwireRequestContext>) {
        router.get("dashboard/sign-in", use: signInPage)
        router.post("dashboard/sign-in", use: signIn)
        router.post("dashboard/sign-out") { request, context in
            try await self.signedIn(request, context, post: true) { try await self.signOut(request, $0) }
        }
        router.get("dashboard") { request, context in try await self.signedIn(request, context) { try await self.overview(request, $0) } }
        router.get("dashboard/agencies") { request, context in try await self.signedIn(request, context) { try await self.agencies(request, $0) } }
        router.get("dashboard/agencies/{code}") { request, context in
            try await self.signedIn(request, context) { try await self.agency(request, context.parameters.get("code") ?? "", $0) }
        }
        router.get("dashboard/tasks") { request, context in try await self.signedIn(request, context) { try await self.tasks(request, $0) } }
        router.get("dashboard/overdue") { request, context in try await self.signedIn(request, context) { try await self.overdue(request, $0) } }
        router.get("dashboard/escalations") { request, context in
            try await self.signedIn(request, context) { try await self.escalations(request, $0) }
        }
        router.post("dashboard/escalations/{id}/acknowledge") { request, context in
            try await self.signedIn(request, context, post: true) { try await self.acknowledge(request, context.parameters.get("id") ?? "", $0) }
        }
        router.get("dashboard/scorecard") { request, context in
            try await self.signedIn(request, context) { try await self.scorecard(request, $0, csv: false) }
        }
        router.get("dashboard/scorecard.csv") { request, context in
            try await self.signedIn(request, context) { try await self.scorecard(request, $0, csv: true) }
        }
    }

    /// A signed-in reader: its session and how its pages address it.
    struct Visit {
        var session: DashboardSession
        var reader: Reader
        /// A POST's form, read once (a request's body can be read only once).
        var form: [String: String] = [:]
        var language: Language { reader.language }
        var agency: PartyCode? { reader.agency }
        var actor: TaskActor { agency.map(TaskActor.agency) ?? .coordinator }
        var scope: StatsScope { agency.map(StatsScope.agency) ?? .everything }
    }

    /// A page that is not what was asked for: a friendly page with its status.
    struct PageFailure: Error {
        var status: HTTPResponse.Status
        var title: String
        var detail: String
        var errors: [String] = []
    }

    /// Runs `page` for a signed-in reader, as that reader in the database; without a session, a GET goes to
    /// the sign-in page (coming back after), and a POST answers 403. A POST must carry the session's form token.
    func signedIn(_ request: Request, _ context: TipwireRequestContext, post: Bool = false, _ page: (Visit) async throws -> Response) async throws
        -> Response
    {
        let language = try? Self.language(request)
        let cookies = Self.cookies(request)
        var session: DashboardSession?
        if let secret = cookies[Self.sessionCookie] { session = try await DatabaseScope.system { try await stores.sessions.session(secret) } }
        guard let session, Self.roles.contains(session.principal.role) else {
            if post {
                return render(
                    request, language ?? .vietnamese, PageFailure(status: .forbidden, title: "403", detail: Wording(language ?? .vietnamese)["csrf"]))
            }
            let next = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            return Self.redirect("/dashboard/sign-in?next=\(Self.percentEncoded(next))")
        }
        var headers = HTTPFields()
        let chosen: Language
        switch language {
        case .some(let some): chosen = some
        case .none:
            return render(request, Self.cookieLanguage(request), PageFailure(status: .badRequest, title: "400", detail: "lang: vi | en"))
        }
        if request.uri.queryParameters.get("lang") != nil { headers[.setCookie] = Self.languageCookieHeader(chosen, request) }
        let ownAgency: PartyCode? = session.principal.role == Role.agency ? session.principal.agency : nil
        let reader = Reader(
            language: chosen, label: Self.label(session.principal, chosen), csrf: session.csrf, agency: ownAgency,
            path: Self.pathWithoutLanguage(request))
        var visit = Visit(session: session, reader: reader)
        do {
            if post {
                visit.form = try await Self.form(request)
                guard let token = visit.form["csrf"], Self.same(token, session.csrf) else {
                    throw PageFailure(status: .forbidden, title: "403", detail: reader.wording["csrf"])
                }
                var response = try await DatabaseScope.system { try await page(visit) }
                response.headers.append(contentsOf: headers)
                return response
            }
            var response = try await DatabaseScope.principal(session.principal) { try await page(visit) }
            response.headers.append(contentsOf: headers)
            return response
        } catch let failure as PageFailure {
            return render(request, chosen, failure, reader: reader)
        }
    }

    // MARK: - Signing in and out

    @Sendable func signInPage(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let language = (try? Self.language(request)) ?? .vietnamese
        return signInForm(request, language: language, error: nil)
    }

    func signInForm(_ request: Request, language: Language, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        // The sign-in form has no session yet: its form token is a random value in a cookie and in the form (double submit).
        let csrf = SessionStore.randomText()
        let next = Self.safeNext(request.uri.queryParameters.get("next"))
        let reader = Reader(language: language, label: nil, csrf: csrf, agency: nil, path: Self.pathWithoutLanguage(request))
        var response = Self.html(status, pages.signIn(reader: reader, next: next, error: error))
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.signInCookie, csrf, request, maxAge: 3600)))
        if request.uri.queryParameters.get("lang") != nil {
            response.headers.append(HTTPField(name: .setCookie, value: Self.languageCookieHeader(language, request)))
        }
        return response
    }

    @Sendable func signIn(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let language = Self.cookieLanguage(request)
        let form: [String: String]
        do { form = try await Self.form(request) } catch let failure as PageFailure { return render(request, language, failure) }
        guard let token = form["csrf"], let expected = Self.cookies(request)[Self.signInCookie], Self.same(token, expected) else {
            return signInForm(request, language: language, error: Wording(language)["csrf"], status: .forbidden)
        }
        guard let text = form["token"], let bearer = BearerToken(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            case .valid(let principal) = try await DatabaseScope.system({ try await stores.tokens.authenticate(bearer) }),
            Self.roles.contains(principal.role)
        else {
            context.logger.info("dashboard sign-in refused")
            return signInForm(request, language: language, error: Wording(language)["bad-token"], status: .unauthorized)
        }
        let (secret, _) = try await DatabaseScope.system { try await stores.sessions.open(for: principal) }
        context.logger.info("dashboard session opened", metadata: ["actor": "\(principal.actor)"])
        var response = Self.redirect(Self.safeNext(form["next"]))
        response.headers.append(
            HTTPField(name: .setCookie, value: Self.cookie(Self.sessionCookie, secret, request, maxAge: Int(SessionStore.lifetime))))
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.signInCookie, "", request, maxAge: 0)))
        return response
    }

    func signOut(_ request: Request, _ visit: Visit) async throws -> Response {
        if let secret = Self.cookies(request)[Self.sessionCookie] { try await stores.sessions.end(secret) }
        var response = Self.redirect("/dashboard/sign-in")
        response.headers.append(HTTPField(name: .setCookie, value: Self.cookie(Self.sessionCookie, "", request, maxAge: 0)))
        return response
    }

    // MARK: - Pages

    func overview(_ request: Request, _ visit: Visit) async throws -> Response {
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
        return Self.html(
            .ok,
            pages.overview(
                reader: visit.reader, period: choice, whole: figures, monthly: try await months, previous: try await before,
                overdue: try await board.groups.map(\.count).reduce(0, +), openEscalations: try await open))
    }

    func agencies(_ request: Request, _ visit: Visit) async throws -> Response {
        if let own = visit.agency { return Self.redirect("/dashboard/agencies/\(own.rawValue)") }
        var period = try await period(request, visit)
        let query = request.uri.queryParameters
        let sort = query.get("sort") ?? "name"
        let report = try await report(StatsFilter(period: period.period), visit)
        period.figuresAsOf = report.figuresAsOf
        return Self.html(.ok, pages.agencies(reader: visit.reader, period: period, report: report, sort: sort, descending: query.get("dir") != "asc"))
    }

    func agency(_ request: Request, _ code: String, _ visit: Visit) async throws -> Response {
        let wording = visit.reader.wording
        guard let agency = PartyCode(rawValue: code), visit.agency == nil || visit.agency == agency else {
            throw PageFailure(status: .notFound, title: wording["not-found"], detail: wording["not-found-text"])
        }
        var period = try await period(request, visit)
        let filter = StatsFilter(period: period.period, agency: agency)
        let report = try await report(filter, visit)
        period.figuresAsOf = report.figuresAsOf
        let name = try await stores.stats.agencyName(agency)
        guard let name else { throw PageFailure(status: .notFound, title: wording["not-found"], detail: wording["not-found-text"]) }
        let figures =
            report.groups.first
            ?? GroupFigures(
                key: agency.rawValue, name: name, tasks: 0,
                stages: LatencyStage.taskStages.map {
                    StageFigures(stage: $0, count: 0, hours: nil, workingDays: nil, judged: 0, onTime: 0, minimumSample: filter.minimumSample)
                }, backlog: [:], extensions: 0, transfers: 0, declines: 0, escalations: 0, accountedFor: 0, minimumSample: filter.minimumSample)
        let distribution = try await stores.stats.acknowledgeDistribution(filter)
        let escalations = try await stores.duties.escalations(EscalationFilter(limit: 20), for: .agency(agency))
        return Self.html(
            .ok, pages.agency(reader: visit.reader, period: period, figures: figures, distribution: distribution, escalations: escalations))
    }

    func tasks(_ request: Request, _ visit: Visit) async throws -> Response {
        let query = request.uri.queryParameters
        let wording = visit.reader.wording
        var agency: PartyCode?
        if let code = query.get("agency"), !code.isEmpty {
            guard let parsed = PartyCode(rawValue: code) else {
                throw PageFailure(status: .badRequest, title: wording["bad-request"], detail: "agency: \(PartyCode.validate(code) ?? "")")
            }
            agency = parsed
        }
        let cursor = try query.get("cursor").map { text -> PageCursor in
            guard let cursor = PageCursor(token: text) else {
                throw PageFailure(status: .badRequest, title: wording["bad-request"], detail: "cursor")
            }
            return cursor
        }
        let openOnly = query.get("open") == "1"
        let page = try await stores.tasks.list(TaskFilter(agency: agency, openOnly: openOnly, after: cursor, limit: 50), for: visit.actor)
        return Self.html(.ok, pages.tasks(reader: visit.reader, page: page, agency: visit.agency ?? agency, openOnly: openOnly))
    }

    func overdue(_ request: Request, _ visit: Visit) async throws -> Response {
        let board = try await stores.duties.overdue(at: Date(), holder: visit.agency, perGroup: 50)
        return Self.html(.ok, pages.overdue(reader: visit.reader, board: board))
    }

    func escalations(_ request: Request, _ visit: Visit) async throws -> Response {
        let query = request.uri.queryParameters
        let wording = visit.reader.wording
        let cursor = try query.get("cursor").map { text -> PageCursor in
            guard let cursor = PageCursor(token: text) else {
                throw PageFailure(status: .badRequest, title: wording["bad-request"], detail: "cursor")
            }
            return cursor
        }
        let state = query.get("state").flatMap { $0.isEmpty ? nil : $0 }
        let acknowledged: Bool?
        switch state {
        case nil: acknowledged = nil
        case "open": acknowledged = false
        case "acknowledged": acknowledged = true
        default: throw PageFailure(status: .badRequest, title: wording["bad-request"], detail: "state: open | acknowledged")
        }
        let page = try await stores.duties.escalations(EscalationFilter(acknowledged: acknowledged, after: cursor, limit: 50), for: visit.actor)
        return Self.html(
            .ok, pages.escalations(reader: visit.reader, page: page, state: state, notice: query.get("done") == "1" ? wording["done"] : nil))
    }

    func acknowledge(_ request: Request, _ id: String, _ visit: Visit) async throws -> Response {
        let wording = visit.reader.wording
        guard visit.agency == nil else { throw PageFailure(status: .forbidden, title: "403", detail: wording["not-found-text"]) }
        guard let uuid = UUID(uuidString: id) else {
            throw PageFailure(status: .notFound, title: wording["not-found"], detail: wording["not-found-text"])
        }
        let note = (visit.form["note"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if let problem = TextRules.problem(note, length: 1...2000, multiline: true, blankAllowed: false) {
            throw PageFailure(status: .badRequest, title: wording["bad-request"], detail: "\(wording["note"]): \(problem)")
        }
        let result = try await stores.duties.acknowledge(uuid, note: note, by: visit.session.principal.actor, idempotency: .unclaimed)
        switch result {
        case .answered(_, .acknowledged), .refused(.acknowledged): return Self.redirect("/dashboard/escalations?done=1")
        case .answered(_, .notFound), .refused(.notFound):
            throw PageFailure(status: .notFound, title: wording["not-found"], detail: wording["not-found-text"])
        case .answered(_, .alreadyAcknowledged(let by, let at)), .refused(.alreadyAcknowledged(let by, let at)):
            throw PageFailure(status: .conflict, title: "409", detail: "\(wording["acknowledged-by"]) \(by), \(wording.dateTime(at))")
        case .replayed, .keyReused:
            return Self.redirect("/dashboard/escalations?done=1")
        }
    }

    func scorecard(_ request: Request, _ visit: Visit, csv: Bool) async throws -> Response {
        let wording = visit.reader.wording
        let text = request.uri.queryParameters.get("year") ?? String(WorkingCalendar.dayOf(Date()).year)
        guard let year = Int(text), StatsPeriod.years.contains(year) else {
            throw PageFailure(
                status: .badRequest, title: wording["bad-request"],
                detail: "\(wording["year"]): \(StatsPeriod.years.lowerBound)–\(StatsPeriod.years.upperBound)")
        }
        let scorecard = try await stores.stats.scorecard(year: year, scope: visit.scope)
        if csv { return ScorecardFormat.csv.response(scorecard, pages: pages, reader: visit.reader) }  // the same CSV as the API's
        return Self.html(.ok, pages.scorecard(reader: visit.reader, scorecard: scorecard))
    }

    // MARK: - Helpers

    func report(_ filter: StatsFilter, _ visit: Visit) async throws -> LatencyReport {
        do {
            return try await stores.stats.latency(filter, scope: visit.scope, language: visit.language)
        } catch StatsRefusal.unknown(let field, let code) {
            let wording = visit.reader.wording
            throw PageFailure(status: .notFound, title: wording["not-found"], detail: "\(field): \(code)")
        }
    }

    /// The period asked for: `period` (a named period; the picker's form), else `from` and `to` (the range
    /// form), else the reporting year to date. The picker sends no dates, the range form no name.
    func period(_ request: Request, _ visit: Visit) async throws -> PeriodChoice {
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

    func render(_ request: Request, _ language: Language, _ failure: PageFailure, reader: Reader? = nil) -> Response {
        let reader = reader ?? Reader(language: language, label: nil, csrf: "", agency: nil, path: Self.pathWithoutLanguage(request))
        return Self.html(failure.status, pages.problem(reader: reader, title: failure.title, detail: failure.detail, errors: failure.errors))
    }

    static func label(_ principal: Principal, _ language: Language) -> String {
        let wording = Wording(language)
        let role = wording[principal.role == .agency ? "role-agency" : "role-coordinator"]
        let party = principal.agency?.rawValue ?? ""
        return principal.holder.isEmpty ? "\(role) · \(party)" : "\(principal.holder) (\(role) · \(party))"
    }
}
