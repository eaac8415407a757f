import Foundation

/// The stages whose time tipwire measures for every task (docs/analytics.md). Each runs from a task event
/// to a later one: deliver from assignment to delivery, the others from delivery to the agency's
/// acknowledgement, its first action of any kind, and its first resolution.
public enum LatencyStage: String, Sendable, Hashable, Codable, CaseIterable {
    case deliver
    case acknowledge
    case firstResponse = "first_response"
    case resolve
    /// A newsroom answers an agency's information request (from the request to the answer).
    case newsroomAnswer = "newsroom_answer"

    /// The stages of a task, in order.
    public static let taskStages: [LatencyStage] = [.deliver, .acknowledge, .firstResponse, .resolve]
}

/// The languages tipwire's pages and reports speak: Vietnamese by default, English on request.
public enum Language: String, Sendable, Hashable, Codable, CaseIterable {
    case vietnamese = "vi"
    case english = "en"
}

/// Where a report's figures come from: the rollups (summed ahead, behind a watermark; hours within 1%),
/// or the exact path over the timelines (slow at scale; the baseline the rollups are checked against).
public enum StatsSource: String, Sendable, Hashable, CaseIterable {
    case rollups
    case exact
}

/// What the figures are grouped by.
public enum StatsGrouping: String, Sendable, Hashable, Codable, CaseIterable {
    case agency
    case category
    case jurisdiction
    /// The month (Hanoi time) the task was assigned: the trend.
    case month
    /// One group, key `all`, of every task the filter covers: the figures of the whole.
    case all
}

/// How long an open task has waited since it was assigned, in calendar days.
public enum BacklogAge: String, Sendable, Hashable, Codable, CaseIterable {
    case upTo7Days = "0-7"
    case upTo30Days = "8-30"
    case upTo90Days = "31-90"
    case over90Days = "over-90"

    /// The bucket of a task assigned `days` whole days ago.
    public init(days: Int) {
        switch days {
        case ..<8: self = .upTo7Days
        case 8...30: self = .upTo30Days
        case 31...90: self = .upTo90Days
        default: self = .over90Days
        }
    }
}

/// The days a report covers, both included, in Hanoi time.
public struct StatsPeriod: Sendable, Hashable, Codable, CustomStringConvertible {
    public var from: CalendarDay
    public var to: CalendarDay

    /// The longest period a report may cover: enough for a multi-year comparison, bounded so a query is bounded.
    public static let maximumDays = 5 * 366
    /// The years tipwire can hold data for.
    public static let years = 2000...2100

    public init(from: CalendarDay, to: CalendarDay) {
        self.from = from
        self.to = to
    }

    /// A calendar year.
    public static func year(_ year: Int) throws(ValidationFailure) -> StatsPeriod {
        guard years.contains(year) else { throw ValidationFailure("year", "must be from \(years.lowerBound) to \(years.upperBound)") }
        return StatsPeriod(from: CalendarDay(year: year, month: 1, day: 1), to: CalendarDay(year: year, month: 12, day: 31))
    }

    /// The period from `from` and `to` as given (`YYYY-MM-DD`, either may be missing): by default the
    /// 365 days that end `today`, naming every bad field.
    public static func parse(from: String?, to: String?, today: CalendarDay) throws(ValidationFailure) -> StatsPeriod {
        var errors: [FieldError] = []
        func day(_ field: String, _ text: String?) -> CalendarDay? {
            guard let text else { return nil }
            guard let day = CalendarDay(text), years.contains(day.year) else {
                errors.append(FieldError(field, "must be a date (YYYY-MM-DD) in the years \(years.lowerBound) to \(years.upperBound)"))
                return nil
            }
            return day
        }
        let end = day("to", to)
        let start = day("from", from)
        if !errors.isEmpty { throw ValidationFailure(errors) }
        let last = end ?? today
        let first = start ?? CalendarDay(number: last.number - 364)
        guard first <= last else { throw ValidationFailure("to", "must not come before from (\(first))") }
        guard last.number - first.number < maximumDays else { throw ValidationFailure("to", "the period may cover at most \(maximumDays) days") }
        return StatsPeriod(from: first, to: last)
    }

    /// `2025-12-15 to 2026-12-14`.
    public var description: String { "\(from) to \(to)" }

    /// The first instant of the period and the first instant after it.
    public var interval: (start: Date, end: Date) { (from.start, to.next.start) }
}

/// Which tasks a report covers.
public struct StatsFilter: Sendable, Hashable {
    public var period: StatsPeriod
    public var grouping: StatsGrouping
    public var agency: PartyCode?
    public var category: String?
    public var jurisdiction: PartyCode?
    /// Figures over fewer tasks than this are withheld as insufficient data.
    public var minimumSample: Int

    public static let defaultMinimumSample = 10

    public init(
        period: StatsPeriod, grouping: StatsGrouping = .agency, agency: PartyCode? = nil, category: String? = nil, jurisdiction: PartyCode? = nil,
        minimumSample: Int = defaultMinimumSample
    ) {
        self.period = period
        self.grouping = grouping
        self.agency = agency
        self.category = category
        self.jurisdiction = jurisdiction
        self.minimumSample = minimumSample
    }
}

/// p50, p90 and p99 by the nearest-rank method: the smallest value at least that share of the sample
/// is no greater than (PostgreSQL's `percentile_disc`).
public struct Quantiles: Sendable, Hashable, Codable {
    public var p50: Double
    public var p90: Double
    public var p99: Double

    public init(p50: Double, p90: Double, p99: Double) {
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
    }

    /// The quantiles of `values` (nil when empty).
    public init?(of values: [Double]) {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        func rank(_ share: Double) -> Double { sorted[max(0, Int((share * Double(sorted.count)).rounded(.up)) - 1)] }
        self.init(p50: rank(0.5), p90: rank(0.9), p99: rank(0.99))
    }
}

/// One stage's figures over a group of tasks. Below the minimum sample the numbers are withheld:
/// `insufficientData` is true and the quantiles and on-time share are null.
public struct StageFigures: Sendable, Hashable, Codable {
    public var stage: LatencyStage
    /// Tasks that completed the stage.
    public var count: Int
    public var hours: Quantiles?
    public var workingDays: Quantiles?
    /// Of those, the ones with a duty clock to judge by, and the ones that met it.
    public var judged: Int
    public var onTime: Int
    public var onTimeShare: Double?
    public var insufficientData: Bool

    enum CodingKeys: String, CodingKey {
        case stage, count, hours, judged
        case workingDays = "working_days", onTime = "on_time", onTimeShare = "on_time_share", insufficientData = "insufficient_data"
    }

    public init(stage: LatencyStage, count: Int, hours: Quantiles?, workingDays: Quantiles?, judged: Int, onTime: Int, minimumSample: Int) {
        self.stage = stage
        self.count = count
        self.judged = judged
        self.onTime = onTime
        insufficientData = count < max(1, minimumSample)
        self.hours = insufficientData ? nil : hours
        self.workingDays = insufficientData ? nil : workingDays
        onTimeShare = insufficientData || judged < max(1, minimumSample) ? nil : Double(onTime) / Double(judged)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(stage, forKey: .stage)
        try container.encode(count, forKey: .count)
        try container.encode(hours, forKey: .hours)
        try container.encode(workingDays, forKey: .workingDays)
        try container.encode(judged, forKey: .judged)
        try container.encode(onTime, forKey: .onTime)
        try container.encode(onTimeShare, forKey: .onTimeShare)
        try container.encode(insufficientData, forKey: .insufficientData)
    }
}

/// The figures of one group (an agency, a category, a jurisdiction or a month).
public struct GroupFigures: Sendable, Hashable, Codable {
    public var key: String
    /// The agency's, category's or jurisdiction's name, or the month again.
    public var name: String
    /// Tasks assigned in the period (after the agency joined).
    public var tasks: Int
    public var stages: [StageFigures]
    /// Tasks still open, by how long ago they were assigned.
    public var backlog: [BacklogAge: Int]
    public var extensions: Int
    public var transfers: Int
    public var declines: Int
    /// Overdue notices and escalations raised on the group's tasks.
    public var escalations: Int
    /// Tasks no longer waiting on the agency (resolved, declined, transferred or closed), and their share.
    public var accountedFor: Int
    public var accountedShare: Double?
    public var insufficientData: Bool

    enum CodingKeys: String, CodingKey {
        case key, name, tasks, stages, backlog, extensions, transfers, declines, escalations
        case accountedFor = "accounted_for", accountedShare = "accounted_share", insufficientData = "insufficient_data"
    }

    public init(
        key: String, name: String, tasks: Int, stages: [StageFigures], backlog: [BacklogAge: Int], extensions: Int, transfers: Int, declines: Int,
        escalations: Int, accountedFor: Int, minimumSample: Int
    ) {
        self.key = key
        self.name = name
        self.tasks = tasks
        self.stages = stages
        self.backlog = backlog
        self.extensions = extensions
        self.transfers = transfers
        self.declines = declines
        self.escalations = escalations
        self.accountedFor = accountedFor
        insufficientData = tasks < max(1, minimumSample)
        accountedShare = insufficientData ? nil : Double(accountedFor) / Double(tasks)
    }

    public subscript(stage: LatencyStage) -> StageFigures? { stages.first { $0.stage == stage } }

    public var openTasks: Int { backlog.values.reduce(0, +) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(name, forKey: .name)
        try container.encode(tasks, forKey: .tasks)
        try container.encode(stages, forKey: .stages)
        try container.encode(Dictionary(uniqueKeysWithValues: BacklogAge.allCases.map { ($0.rawValue, backlog[$0, default: 0]) }), forKey: .backlog)
        try container.encode(extensions, forKey: .extensions)
        try container.encode(transfers, forKey: .transfers)
        try container.encode(declines, forKey: .declines)
        try container.encode(escalations, forKey: .escalations)
        try container.encode(accountedFor, forKey: .accountedFor)
        try container.encode(accountedShare, forKey: .accountedShare)
        try container.encode(insufficientData, forKey: .insufficientData)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        key = try container.decode(String.self, forKey: .key)
        name = try container.decode(String.self, forKey: .name)
        tasks = try container.decode(Int.self, forKey: .tasks)
        stages = try container.decode([StageFigures].self, forKey: .stages)
        let ages = try container.decode([String: Int].self, forKey: .backlog)
        backlog = Dictionary(uniqueKeysWithValues: ages.compactMap { key, value in BacklogAge(rawValue: key).map { ($0, value) } })
        extensions = try container.decode(Int.self, forKey: .extensions)
        transfers = try container.decode(Int.self, forKey: .transfers)
        declines = try container.decode(Int.self, forKey: .declines)
        escalations = try container.decode(Int.self, forKey: .escalations)
        accountedFor = try container.decode(Int.self, forKey: .accountedFor)
        accountedShare = try container.decodeIfPresent(Double.self, forKey: .accountedShare)
        insufficientData = try container.decode(Bool.self, forKey: .insufficientData)
    }
}

/// How long a newsroom took to answer agencies' information requests.
public struct NewsroomAnswerFigures: Sendable, Hashable, Codable {
    public var newsroom: PartyCode
    public var name: String
    public var asked: Int
    public var answer: StageFigures

    public init(newsroom: PartyCode, name: String, asked: Int, answer: StageFigures) {
        self.newsroom = newsroom
        self.name = name
        self.asked = asked
        self.answer = answer
    }
}

/// Findings received in the period, and those no task of which still waits on an agency.
public struct FindingsAccounted: Sendable, Hashable, Codable {
    public var received: Int
    public var accountedFor: Int
    public var share: Double?

    enum CodingKeys: String, CodingKey {
        case received, share
        case accountedFor = "accounted_for"
    }

    public init(received: Int, accountedFor: Int) {
        self.received = received
        self.accountedFor = accountedFor
        share = received == 0 ? nil : Double(accountedFor) / Double(received)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(received, forKey: .received)
        try container.encode(accountedFor, forKey: .accountedFor)
        try container.encode(share, forKey: .share)
    }
}

/// `GET /v1/stats/latency`: the figures of every group the caller may see.
public struct LatencyReport: Sendable, Hashable, Codable {
    public var period: StatsPeriod
    public var groupBy: StatsGrouping
    public var minimumSample: Int
    public var asOf: Date
    public var groups: [GroupFigures]
    public var findings: FindingsAccounted?
    public var newsroomAnswers: [NewsroomAnswerFigures]
    /// Where the figures came from the rollups: every change committed before this instant is in them
    /// (docs/analytics.md#rollups). Nil: computed from the timelines as the report was asked.
    public var figuresAsOf: Date?
    /// The largest relative error of a percentile in hours: 0.01 from the rollups, 0 (nil) when exact.
    /// Counts, shares and working days are always exact.
    public var hoursRelativeAccuracy: Double?

    enum CodingKeys: String, CodingKey {
        case period, groups, findings
        case groupBy = "group_by", minimumSample = "minimum_sample", asOf = "as_of", newsroomAnswers = "newsroom_answers"
        case figuresAsOf = "figures_as_of", hoursRelativeAccuracy = "hours_relative_accuracy"
    }

    public init(
        period: StatsPeriod, groupBy: StatsGrouping, minimumSample: Int, asOf: Date, groups: [GroupFigures], findings: FindingsAccounted?,
        newsroomAnswers: [NewsroomAnswerFigures], figuresAsOf: Date? = nil, hoursRelativeAccuracy: Double? = nil
    ) {
        self.figuresAsOf = figuresAsOf
        self.hoursRelativeAccuracy = hoursRelativeAccuracy
        self.period = period
        self.groupBy = groupBy
        self.minimumSample = minimumSample
        self.asOf = asOf
        self.groups = groups
        self.findings = findings
        self.newsroomAnswers = newsroomAnswers
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(period, forKey: .period)
        try container.encode(groupBy, forKey: .groupBy)
        try container.encode(minimumSample, forKey: .minimumSample)
        try container.encode(asOf, forKey: .asOf)
        try container.encode(groups, forKey: .groups)
        try container.encode(findings, forKey: .findings)
        try container.encode(newsroomAnswers, forKey: .newsroomAnswers)
        try container.encode(figuresAsOf, forKey: .figuresAsOf)
        try container.encode(hoursRelativeAccuracy ?? 0, forKey: .hoursRelativeAccuracy)
    }
}

extension CalendarDay: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let day = CalendarDay(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a date (YYYY-MM-DD)"))
        }
        self = day
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
