import Foundation
import HTTPTypes
import Hummingbird
import TipwireCore
import TipwirePages
import TipwireStore

/// Response-latency analytics: `GET /v1/stats/latency` (docs/analytics.md).
struct StatsController {
    let stats: StatsStore
    let pages: Pages

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.get("stats/latency", use: latency)
        group.get("scorecards/{year}", use: scorecard)
    }

    /// `GET /v1/scorecards/{year}`: JSON, CSV or a printable HTML page (`format`, else `Accept`).
    @Sendable func scorecard(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.coordinator, .agency)
        let text = try context.parameters.require("year")
        var query = QueryReader(request.uri.queryParameters)
        let format = query.oneOf("format", ScorecardFormat.allCases.map(\.rawValue)).flatMap(ScorecardFormat.init) ?? ScorecardFormat(accept: request)
        let language = query.oneOf("lang", Language.allCases.map(\.rawValue)).flatMap(Language.init) ?? .vietnamese
        let minimumSample = query.limit("min_sample", default: StatsFilter.defaultMinimumSample, maximum: 1000)
        try query.check()
        guard let year = Int(text), StatsPeriod.years.contains(year) else {
            throw Problem.malformed("year", "must be a year from \(StatsPeriod.years.lowerBound) to \(StatsPeriod.years.upperBound)")
        }
        let scorecard = try await stats.scorecard(year: year, scope: try Self.scope(of: principal), minimumSample: minimumSample)
        let reader = Reader(language: language, label: nil, csrf: "", agency: nil, path: request.uri.path + "?format=html")
        return format.response(scorecard, pages: pages, reader: reader)
    }

    @Sendable func latency(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.coordinator, .agency, .liaison)
        var query = QueryReader(request.uri.queryParameters)
        let filter = query.statsFilter(today: WorkingCalendar.dayOf(Date()), calendar: try await stats.reportingCalendar())
        let language = query.oneOf("lang", Language.allCases.map(\.rawValue)).flatMap(Language.init) ?? .vietnamese
        try query.check()
        guard let filter else { throw Problem.malformed("from", "is not a period") }  // statsFilter recorded why; check() threw
        return try HTTP.json(.ok, try await Self.report(stats, filter, for: principal, language: language))
    }

    /// The report as `principal` may see it; an unknown or out-of-scope code in the filter is a 400 naming it.
    static func report(_ stats: StatsStore, _ filter: StatsFilter, for principal: Principal, language: Language) async throws -> LatencyReport {
        do {
            return try await stats.latency(filter, scope: try scope(of: principal), language: language)
        } catch StatsRefusal.unknown(let field, let code) {
            throw Problem(
                .badRequest, "invalid-query", title: "Invalid query parameters", detail: "\(field): no \(field) '\(code)' you can see",
                errors: [FieldError(field, "no \(field) '\(code)' you can see")])
        }
    }

    static func scope(of principal: Principal) throws -> StatsScope {
        switch (principal.role, principal.agency, principal.newsroom) {
        case (.agency, let agency?, _): .agency(agency)
        case (.liaison, _, let newsroom?): .newsroom(newsroom)
        case (.coordinator, _, _): .everything
        default: throw Problem.forbidden(principal.role, allowed: [.coordinator, .agency, .liaison])
        }
    }
}

extension QueryReader {
    /// `period` (a named period, cut by `calendar`) or `from` and `to`, `group_by`, `agency`, `category`,
    /// `jurisdiction` and `min_sample`; nil with the errors recorded when one is bad.
    mutating func statsFilter(today: CalendarDay, calendar: ReportingCalendar) -> StatsFilter? {
        let grouping = oneOf("group_by", StatsGrouping.allCases.map(\.rawValue)).flatMap(StatsGrouping.init) ?? .agency
        let agency = code("agency")
        let category = text("category", maximum: 63)
        let jurisdiction = code("jurisdiction")
        let minimumSample = limit("min_sample", default: StatsFilter.defaultMinimumSample, maximum: 1000)
        do {
            let period = try StatsPeriod.parse(
                period: parameters.get("period"), from: parameters.get("from"), to: parameters.get("to"), today: today, calendar: calendar)
            return StatsFilter(
                period: period, grouping: grouping, agency: agency, category: category, jurisdiction: jurisdiction, minimumSample: minimumSample)
        } catch {
            errors.append(contentsOf: error.errors)
            return nil
        }
    }
}

/// The scorecard's three forms.
enum ScorecardFormat: String, CaseIterable {
    case json, csv, html

    /// What `Accept` prefers: CSV or HTML when named, JSON otherwise.
    init(accept request: Request) {
        let accept = request.headers[.accept]?.lowercased() ?? ""
        self = accept.contains("text/csv") ? .csv : accept.contains("text/html") ? .html : .json
    }

    func response(_ scorecard: Scorecard, pages: Pages, reader: Reader) -> Response {
        var headers = HTTPFields()
        let body: String
        switch self {
        case .json:
            headers[.contentType] = "application/json"
            body = (try? TipwireJSON.encode(scorecard)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        case .csv:
            headers[.contentType] = "text/csv; charset=utf-8; header=present"
            headers[.contentDisposition] = "attachment; filename=\"tipwire-scorecard-\(scorecard.year).csv\""
            body = scorecard.csv(reader.language)
        case .html:
            headers[.contentType] = "text/html; charset=utf-8"
            body = pages.scorecard(reader: reader, scorecard: scorecard)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
