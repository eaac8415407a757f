import Foundation
import Mustache
import TipwireCore
import TipwireStore

/// Who is reading, and how the page should address them.
public struct Reader: Sendable {
    public var language: Language
    /// "Điều phối viên · thanh-tra-tp"; nil before signing in.
    public var label: String?
    /// The form token of the session (or of the sign-in form).
    public var csrf: String
    /// The agency whose figures alone the reader sees (an agency's session); nil for the coordinator.
    public var agency: PartyCode?
    /// The page's path and query without `lang`, for the language links.
    public var path: String
    /// The navigation: the pages the reader's role has a menu entry for.
    public var menu: [MenuItem]

    public init(language: Language, label: String?, csrf: String, agency: PartyCode?, path: String, menu: [MenuItem] = []) {
        self.language = language
        self.label = label
        self.csrf = csrf
        self.agency = agency
        self.path = path
        self.menu = menu
    }

    public var wording: Wording { Wording(language) }
}

/// An entry of the navigation: where it goes and the wording key of its label.
public struct MenuItem: Sendable, Equatable {
    public var href: String
    public var key: String

    public init(href: String, key: String) {
        self.href = href
        self.key = key
    }
}

/// Renders the dashboard's pages (docs/dashboard.md) from the stores' figures. Pure: no I/O.
public struct Pages: Sendable {
    let library: MustacheLibrary

    public init() throws {
        var library = MustacheLibrary()
        for (name, text) in Templates.all { try library.register(text, named: name) }
        try library.register(Templates.escalationList, named: "escalationList")
        self.library = library
    }

    /// The page `template` for `reader`, titled `title`, with `values` for the template.
    func render(_ template: String, title: String, reader: Reader, notice: String? = nil, _ values: [String: Any]) -> String {
        let wording = reader.wording
        var context = values
        context["lang"] = reader.language.rawValue
        context["title"] = title
        context["t"] = Dictionary(uniqueKeysWithValues: Wording.texts.keys.map { ($0, wording[$0]) })
        context["style"] = Templates.style
        context["csrf"] = reader.csrf
        context["notice"] = notice
        if let label = reader.label {
            context["signedIn"] = label
            let current = reader.path.split(separator: "?").first.map(String.init) ?? reader.path
            context["nav"] = reader.menu.map { ["href": $0.href, "label": wording[$0.key], "current": $0.href == current] as [String: Any] }
        }
        let separator = reader.path.contains("?") ? "&" : "?"
        context["languages"] = [(Language.vietnamese, "Tiếng Việt"), (.english, "English")].map { language, label in
            [
                "href": "\(reader.path)\(separator)lang=\(language.rawValue)", "code": language.rawValue, "label": label,
                "current": language == reader.language,
            ]
                as [String: Any]
        }
        return library.render(Self.present(context), withTemplate: template) ?? ""
    }

    /// `value` with every optional unwrapped and every absent one removed, so a missing value renders as
    /// nothing (Mustache would print a wrapped nil as "nil").
    static func present(_ value: Any) -> Any {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return NSNull() }
            return present(wrapped)
        }
        if let dictionary = value as? [String: Any] {
            var kept: [String: Any] = [:]
            for (key, item) in dictionary {
                let cleaned = present(item)
                if !(cleaned is NSNull) { kept[key] = cleaned }
            }
            return kept
        }
        if let array = value as? [Any] { return array.map(present).filter { !($0 is NSNull) } }
        return value
    }

    // MARK: - Pages

    public func signIn(reader: Reader, next: String, error: String?) -> String {
        render("sign-in", title: reader.wording["sign-in"], reader: reader, ["next": next, "error": error as Any])
    }

    public func problem(reader: Reader, title: String, detail: String, errors: [String] = []) -> String {
        render(
            "problem", title: title, reader: reader, ["detail": detail, "errors": errors, "back": reader.menu.first?.href ?? "/dashboard/sign-in"])
    }

    /// The overview's key figures: `whole` and `previous` are the period's and the one before's reports
    /// grouped as `all` (their medians are not a sum of months'), `monthly` the period's months (the trend).
    public func overview(
        reader: Reader, period: PeriodChoice, whole: LatencyReport, monthly: LatencyReport, previous: LatencyReport, overdue: Int,
        openEscalations: Int
    ) -> String {
        let w = reader.wording
        let total = Totals(whole)
        let before = Totals(previous)
        let scope = reader.agency.map { "agency=\($0.rawValue)&" } ?? ""
        /// "2 ngày làm việc (30,5 giờ)": the median in working days, and in hours.
        func median(_ figures: StageFigures?) -> String {
            guard let days = figures?.workingDays?.p50, let hours = figures?.hours?.p50 else { return w["insufficient"] }
            return "\(w.workingDays(days)) (\(w.hours(hours)))"
        }
        func trend(_ now: Double?, _ then: Double?, percent: Bool) -> String? {
            guard let now, let then else { return nil }
            let delta = now - then
            return (delta >= 0 ? "+" : "−") + (percent ? w.decimal(abs(delta) * 100) + " pp" : w.decimal(abs(delta)))
        }
        let figures: [[String: Any]] = [
            [
                "label": w["tasks-assigned"], "value": w.integer(total.tasks), "href": "/dashboard/tasks?\(scope)",
                "trend": trend(Double(total.tasks), Double(before.tasks), percent: false) as Any,
            ],
            [
                "label": w["findings-accounted"],
                "value": "\(w.integer(whole.findings?.accountedFor ?? 0)) / \(w.integer(whole.findings?.received ?? 0))",
            ],
            [
                "label": w["ack-median"], "value": median(total.acknowledge),
                "trend": trend(total.acknowledge?.workingDays?.p50, before.acknowledge?.workingDays?.p50, percent: false) as Any,
            ],
            [
                "label": w["resolve-median"], "value": median(total.resolve),
                "trend": trend(total.resolve?.workingDays?.p50, before.resolve?.workingDays?.p50, percent: false) as Any,
            ],
            [
                "label": w["ack-on-time"], "value": w.percent(total.acknowledgeShare),
                "trend": trend(total.acknowledgeShare, before.acknowledgeShare, percent: true) as Any,
            ],
            [
                "label": w["resolve-on-time"], "value": w.percent(total.resolveShare),
                "trend": trend(total.resolveShare, before.resolveShare, percent: true) as Any,
            ],
            ["label": w["open-tasks"], "value": w.integer(total.open), "href": "/dashboard/tasks?\(scope)open=1"],
            [
                "label": w["overdue-duties"], "value": w.integer(overdue),
                "href": reader.agency == nil ? "/dashboard/overdue" : "/dashboard/escalations",
            ],
            ["label": w["open-escalations"], "value": w.integer(openEscalations), "href": "/dashboard/escalations?state=open"],
        ]
        let bars = monthly.groups.enumerated().map { index, group in
            let (tick, year) = w.monthTick(group.key, first: index == 0)
            return Charts.Bar(
                label: w.month(group.key), value: Double(group.tasks), text: w.integer(group.tasks), share: group[.acknowledge]?.onTimeShare,
                shareText: group[.acknowledge].map { w.percent($0.onTimeShare) }, tick: tick, tickSecondLine: year)
        }
        let chart = Charts.bars(
            id: "trend", title: w["trend"], caption: w["trend-caption"], bars: bars, valueHeading: w["tasks-assigned"], labelHeading: w["month"],
            shareHeading: w["ack-on-time"])
        return render(
            "overview", title: w["overview"], reader: reader,
            ["figures": figures, "trendChart": chart, "period": period.values(w), "keep": [[String: String]]()])
    }

    /// The agencies table, sorted by `sort` (a column key) in `descending` order.
    public func agencies(reader: Reader, period choice: PeriodChoice, report: LatencyReport, sort: String, descending: Bool) -> String {
        let w = reader.wording
        let period = choice.period
        typealias Column = (
            key: String, label: String, value: (GroupFigures) -> Double?, text: (GroupFigures) -> String, href: (GroupFigures) -> String?
        )
        let tasks = { (g: GroupFigures) in "/dashboard/tasks?agency=\(g.key)" }
        let columns: [Column] = [
            ("tasks", w["tasks-assigned"], { Double($0.tasks) }, { w.integer($0.tasks) }, { tasks($0) }),
            ("ack-p50", w["ack-p50"], { $0[.acknowledge]?.workingDays?.p50 }, { w.workingDays($0[.acknowledge]?.workingDays?.p50) }, { _ in nil }),
            ("ack-p90", w["ack-p90"], { $0[.acknowledge]?.workingDays?.p90 }, { w.workingDays($0[.acknowledge]?.workingDays?.p90) }, { _ in nil }),
            ("ack-on-time", w["ack-on-time"], { $0[.acknowledge]?.onTimeShare }, { w.percent($0[.acknowledge]?.onTimeShare) }, { _ in nil }),
            ("resolve-p50", w["resolve-p50"], { $0[.resolve]?.workingDays?.p50 }, { w.workingDays($0[.resolve]?.workingDays?.p50) }, { _ in nil }),
            ("resolve-on-time", w["resolve-on-time"], { $0[.resolve]?.onTimeShare }, { w.percent($0[.resolve]?.onTimeShare) }, { _ in nil }),
            ("open", w["open-tasks"], { Double($0.openTasks) }, { w.integer($0.openTasks) }, { "\(tasks($0))&open=1" }),
            ("escalations", w["escalations"], { Double($0.escalations) }, { w.integer($0.escalations) }, { _ in "/dashboard/escalations" }),
            ("accounted", w["accounted"], { $0.accountedShare }, { w.percent($0.accountedShare) }, { tasks($0) }),
        ]
        let chosen = columns.first { $0.key == sort }
        let sorted = report.groups.sorted { a, b in
            guard let chosen else { return a.name < b.name }
            // Withheld figures sort last either way.
            switch (chosen.value(a), chosen.value(b)) {
            case (nil, nil): return a.name < b.name
            case (nil, _): return false
            case (_, nil): return true
            case (let x?, let y?): return x == y ? a.name < b.name : (descending ? x > y : x < y)
            }
        }
        let headers: [[String: Any]] =
            [["label": w["agency"], "href": choice.link("", "sort=name"), "sort": (sort == "name" ? "ascending" : nil) as String? as Any]]
            + columns.map { column in
                let active = column.key == sort
                return [
                    "label": column.label, "href": choice.link("", "sort=\(column.key)&dir=\(active && descending ? "asc" : "desc")"),
                    "sort": (active ? (descending ? "descending" : "ascending") : nil) as String? as Any,
                ]
            }
        let rows: [[String: Any]] = sorted.map { group in
            [
                "name": group.name, "code": group.key, "detail": choice.link("/dashboard/agencies/\(group.key)"),
                "cells": columns.map { column in ["text": column.text(group), "href": column.href(group) as Any] as [String: Any] },
            ]
        }
        return render(
            "agencies", title: w["agencies"], reader: reader,
            [
                "columns": headers, "rows": rows,
                "caption": "\(w["agencies"]) · \(period.from.formatted(reader.language)) – \(period.to.formatted(reader.language))",
                "insufficientNote": String(format: w["insufficient-note"], report.minimumSample), "period": choice.values(w),
                "keep": sort == "name" ? [] : [["name": "sort", "value": sort], ["name": "dir", "value": descending ? "desc" : "asc"]],
            ])
    }

    /// One agency: its stages, the distribution of acknowledge times, open tasks by age, its escalations.
    public func agency(
        reader: Reader, period: PeriodChoice, figures: GroupFigures, distribution: [(workingDays: Int, tasks: Int)], escalations: Page<EscalationView>
    ) -> String {
        let w = reader.wording
        let stages: [[String: Any]] = figures.stages.map { stage in
            let withheld = stage.insufficientData
            // Each measure's own quantile: the p50 in working days and the p50 in hours.
            func cell(_ rank: KeyPath<Quantiles, Double>) -> String {
                withheld ? w["insufficient"] : "\(w.workingDays(stage.workingDays?[keyPath: rank])) · \(w.hours(stage.hours?[keyPath: rank]))"
            }
            return [
                "label": w["stage-\(stage.stage.rawValue)"], "count": w.integer(stage.count), "p50": cell(\.p50), "p90": cell(\.p90),
                "p99": cell(\.p99),
                "onTime": w.percent(stage.onTimeShare),
            ]
        }
        let tasks = "/dashboard/tasks?agency=\(figures.key)"
        let counts: [[String: Any]] = [
            ["label": w["tasks-assigned"], "value": w.integer(figures.tasks), "href": tasks],
            ["label": w["open-tasks"], "value": w.integer(figures.openTasks), "href": "\(tasks)&open=1"],
            ["label": w["extensions"], "value": w.integer(figures.extensions)],
            ["label": w["transfers"], "value": w.integer(figures.transfers)],
            ["label": w["declines"], "value": w.integer(figures.declines)],
            ["label": w["escalations"], "value": w.integer(figures.escalations), "href": "/dashboard/escalations"],
            ["label": w["accounted"], "value": w.percent(figures.accountedShare)],
        ]
        let distributionChart = Charts.bars(
            id: "distribution", title: w["distribution"], caption: w["distribution-caption"],
            bars: distribution.map { Charts.Bar(label: "\($0.workingDays)", value: Double($0.tasks), text: w.integer($0.tasks)) },
            valueHeading: w["count"], labelHeading: w["working-days"])
        let backlogChart = Charts.bars(
            id: "backlog", title: w["backlog"], caption: w["backlog-caption"],
            bars: BacklogAge.allCases.map { age in
                Charts.Bar(
                    label: w["age-\(age.rawValue)"], value: Double(figures.backlog[age, default: 0]),
                    text: w.integer(figures.backlog[age, default: 0]))
            }, valueHeading: w["count"], labelHeading: w["age"])
        var values = escalationValues(reader: reader, escalations)
        values["stages"] = stages
        values["figures"] = counts
        values["distributionChart"] = distributionChart
        values["backlogChart"] = backlogChart
        values["period"] = period.values(w)
        values["keep"] = [[String: String]]()
        return render("agency", title: "\(figures.name)", reader: reader, values)
    }

    /// The escalations list; `state` (`open`, `acknowledged`) is the filter it was asked with.
    public func escalations(reader: Reader, page: Page<EscalationView>, state: String? = nil, notice: String? = nil) -> String {
        render(
            "escalations", title: reader.wording["escalations"], reader: reader, notice: notice,
            escalationValues(reader: reader, page, state: state))
    }

    /// The link to a list's next page: its path, the filters the page was asked with, and the cursor. Every
    /// list's "next page" is made here, so page 2 keeps page 1's filters.
    static func nextPage(_ path: String, filters: KeyValuePairs<String, String?>, cursor: String?) -> String? {
        guard let cursor else { return nil }
        let kept = filters.compactMap { name, value in
            value.map { "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["-", "_", "."])) ?? "")" }
        }
        return path + "?" + (kept + ["cursor=\(cursor)"]).joined(separator: "&")
    }

    func escalationValues(reader: Reader, _ page: Page<EscalationView>, state: String? = nil) -> [String: Any] {
        let w = reader.wording
        let rows: [[String: Any]] = page.items.map { item in
            [
                "id": item.id, "raised": w.dateTime(item.raisedAt), "kind": w["kind-\(item.kind.rawValue)"], "rung": item.rung,
                "title": item.findingTitle, "taskHref": "/dashboard/tasks?agency=\(item.holder.kind == "agency" ? item.holder.code.rawValue : "")",
                "stage": w["stage-\(item.stage.rawValue)"], "holder": item.holder.code.rawValue, "acknowledged": item.acknowledgedAt != nil,
                "acknowledgedBy": item.acknowledgedBy ?? "", "note": item.note ?? "", "canAcknowledge": reader.agency == nil, "csrf": reader.csrf,
            ]
        }
        return [
            "escalations": rows, "hasEscalations": !rows.isEmpty,
            "next": Self.nextPage("/dashboard/escalations", filters: ["state": state], cursor: page.nextCursor) as Any,
        ]
    }

    public func tasks(reader: Reader, page: Page<TaskView>, agency: PartyCode?, openOnly: Bool) -> String {
        let w = reader.wording
        let base = "/dashboard/tasks?" + (agency.map { "agency=\($0.rawValue)&" } ?? "")
        let rows: [[String: Any]] = page.items.map { task in
            [
                "id": task.id, "agency": task.agency.rawValue, "state": w["state-\(task.state)"], "assigned": w.dateTime(task.assignedAt),
                "due": task.due.map { w.dateTime($0.dueAt) } ?? "–",
            ]
        }
        return render(
            "tasks", title: w["tasks"] + (agency.map { " · \($0.rawValue)" } ?? ""), reader: reader,
            [
                "tasks": rows, "hasTasks": !rows.isEmpty, "caption": w[openOnly ? "open-tasks" : "tasks"], "openHref": base + "open=1",
                "allHref": base,
                "next": Self.nextPage(
                    "/dashboard/tasks", filters: ["agency": agency?.rawValue, "open": openOnly ? "1" : nil], cursor: page.nextCursor) as Any,
            ])
    }

    public func overdue(reader: Reader, board: OverdueBoard) -> String {
        let w = reader.wording
        let groups: [[String: Any]] = board.groups.map { group in
            [
                "code": group.holder.code.rawValue, "count": group.count,
                "items": group.items.map { item in
                    [
                        "title": item.findingTitle, "stage": w["stage-\(item.stage.rawValue)"], "due": w.dateTime(item.dueAt),
                        "late": w.workingDays(Double(item.overdueByWorkingDays)), "rung": item.lastRung.map { w["kind-\($0.rawValue)"] } ?? "–",
                    ] as [String: Any]
                },
            ]
        }
        return render("overdue", title: w["overdue"], reader: reader, ["groups": groups])
    }

    public func scorecard(reader: Reader, scorecard: Scorecard) -> String {
        let w = reader.wording
        let columns = [
            w["tasks-assigned"], w["ack-p50"], w["ack-p90"], w["ack-on-time"], w["resolve-p50"], w["resolve-on-time"], w["open-tasks"],
            w["escalations"],
            w["accounted"],
        ]
        let rows: [[String: Any]] = scorecard.rows.map { row in
            let f = row.figures
            return [
                "name": row.name, "code": row.agency,
                "cells": [
                    w.integer(f.tasks), w.workingDays(f[.acknowledge]?.workingDays?.p50), w.workingDays(f[.acknowledge]?.workingDays?.p90),
                    w.percent(f[.acknowledge]?.onTimeShare), w.workingDays(f[.resolve]?.workingDays?.p50), w.percent(f[.resolve]?.onTimeShare),
                    w.integer(f.openTasks), w.integer(f.escalations), w.percent(f.accountedShare),
                ],
            ]
        }
        return render(
            "scorecard", title: "\(w["scorecard"]) \(scorecard.year)", reader: reader,
            [
                "columns": [w["agency"]] + columns, "rows": rows, "method": scorecard.method(reader.language),
                "csvHref": "/dashboard/scorecard.csv?year=\(scorecard.year)", "asOf": w.dateTime(scorecard.asOf),
            ])
    }

}

/// A report's figures over all its groups: tasks, open tasks, and the on-time shares of acknowledge and resolve.
struct Totals {
    var tasks = 0
    var open = 0
    var acknowledgeShare: Double?
    var resolveShare: Double?
    /// The stages' figures when the report has one group (grouped as `all`): its medians.
    var acknowledge: StageFigures?
    var resolve: StageFigures?

    init(_ report: LatencyReport) {
        if report.groups.count == 1, let only = report.groups.first {
            acknowledge = only[.acknowledge]
            resolve = only[.resolve]
        }
        var judged = [LatencyStage: Int]()
        var onTime = [LatencyStage: Int]()
        for group in report.groups {
            tasks += group.tasks
            open += group.openTasks
            for stage in group.stages {
                judged[stage.stage, default: 0] += stage.judged
                onTime[stage.stage, default: 0] += stage.onTime
            }
        }
        let minimum = max(report.minimumSample, 1)
        func share(_ stage: LatencyStage) -> Double? {
            guard let count = judged[stage], count >= minimum else { return nil }
            return Double(onTime[stage, default: 0]) / Double(count)
        }
        acknowledgeShare = share(.acknowledge)
        resolveShare = share(.resolve)
    }
}
