import Foundation
import Hummingbird
import TipwireCore
import TipwireStore

/// Response-latency analytics: `GET /v1/stats/latency` (docs/analytics.md).
struct StatsController {
    let stats: StatsStore

    func addRoutes(to group: RouterGroup<TipwireRequestContext>) {
        group.get("stats/latency", use: latency)
    }

    @Sendable func latency(_ request: Request, context: TipwireRequestContext) async throws -> Response {
        let principal = try context.require(.coordinator, .agency, .liaison)
        var query = QueryReader(request.uri.queryParameters)
        let filter = query.statsFilter(today: WorkingCalendar.dayOf(Date()))
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
    /// `from`, `to`, `group_by`, `agency`, `category`, `jurisdiction` and `min_sample`; nil with the
    /// errors recorded when one is bad.
    mutating func statsFilter(today: CalendarDay) -> StatsFilter? {
        let grouping = oneOf("group_by", StatsGrouping.allCases.map(\.rawValue)).flatMap(StatsGrouping.init) ?? .agency
        let agency = code("agency")
        let category = text("category", maximum: 63)
        let jurisdiction = code("jurisdiction")
        let minimumSample = limit("min_sample", default: StatsFilter.defaultMinimumSample, maximum: 1000)
        do {
            let period = try StatsPeriod.parse(from: parameters.get("from"), to: parameters.get("to"), today: today)
            return StatsFilter(
                period: period, grouping: grouping, agency: agency, category: category, jurisdiction: jurisdiction, minimumSample: minimumSample)
        } catch {
            errors.append(contentsOf: error.errors)
            return nil
        }
    }
}
