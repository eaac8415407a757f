import Foundation

/// Hours on a logarithmic scale, in the manner of DDSketch: bucket `i` holds the spans of
/// `(γ^(i-1), γ^i]` hours, with `γ = (1 + α) / (1 - α)`, and reads back as `2γ^i / (γ + 1)`, which is
/// within the relative accuracy `α` (1%) of every value in the bucket. Spans under a second are one
/// bucket of their own that reads back as zero. docs/analytics.md#accuracy.
public enum HourBuckets {
    /// The largest relative error of an hour read back from its bucket.
    public static let relativeAccuracy = 0.01
    public static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    /// The bucket of spans under a second.
    public static let zero = -32_768
    /// Under a second, in hours.
    public static let smallest = 1.0 / 3600

    /// The bucket of a span of `hours`. The rollups' SQL computes the same: `ceil(ln(hours) / ln(γ))`.
    public static func bucket(_ hours: Double) -> Int {
        hours < smallest ? zero : Int((log(hours) / log(gamma)).rounded(.up))
    }

    /// What bucket `index` reads back as, in hours.
    public static func value(_ index: Int) -> Double {
        index == zero ? 0 : 2 * pow(gamma, Double(index)) / (gamma + 1)
    }
}

/// Counts per bucket: how many spans took each number of working days (exact: they are whole numbers),
/// or fell in each hour bucket. Merging two is adding their counts.
public struct BucketCounts: Sendable, Hashable {
    public private(set) var counts: [Int: Int] = [:]
    public private(set) var total = 0

    public init() {}

    public init(buckets: [Int], counts: [Int]) {
        for (bucket, count) in zip(buckets, counts) { add(count, to: bucket) }
    }

    public mutating func add(_ count: Int, to bucket: Int) {
        guard count != 0 else { return }
        counts[bucket, default: 0] += count
        total += count
    }

    public mutating func merge(_ other: BucketCounts) {
        for (bucket, count) in other.counts { add(count, to: bucket) }
    }

    /// The bucket of the nearest-rank quantile `share` (PostgreSQL's `percentile_disc`): the smallest
    /// bucket holding at least that share of the spans. Nil when there are none.
    public func bucket(atShare share: Double) -> Int? {
        guard total > 0 else { return nil }
        let rank = max(1, Int((share * Double(total)).rounded(.up)))
        var seen = 0
        for bucket in counts.keys.sorted() {
            seen += counts[bucket, default: 0]
            if seen >= rank { return bucket }
        }
        return counts.keys.max()
    }

    /// p50, p90 and p99, each bucket read back by `value`.
    public func quantiles(_ value: (Int) -> Double) -> Quantiles? {
        guard let p50 = bucket(atShare: 0.5), let p90 = bucket(atShare: 0.9), let p99 = bucket(atShare: 0.99) else { return nil }
        return Quantiles(p50: value(p50), p90: value(p90), p99: value(p99))
    }
}

/// An aligned run of days the rollups sum over: `2^level` days from day number `first` (days since
/// 1970-01-01), `first` a multiple of `2^level`. Any run of days is a few such blocks, however long.
public struct DayBlock: Sendable, Hashable, CustomStringConvertible {
    public var level: Int
    public var first: Int

    /// Blocks of 1, 2, 4, … 512 days.
    public static let levels = 0...9

    public init(level: Int, first: Int) {
        self.level = level
        self.first = first
    }

    public var length: Int { 1 << level }
    public var last: Int { first + length - 1 }

    /// The block of `level` that holds day number `day`.
    public init(level: Int, containing day: Int) {
        self.init(level: level, first: (day >> level) << level)
    }

    /// The fewest blocks that cover `period` exactly, in order: at most two of each level below the
    /// largest, and as many of the largest as the period's length needs.
    public static func cover(_ period: StatsPeriod) -> [DayBlock] {
        var blocks: [DayBlock] = []
        var day = period.from.number
        let last = period.to.number
        while day <= last {
            var level = levels.upperBound
            while level > 0 && (day % (1 << level) != 0 || day + (1 << level) - 1 > last) { level -= 1 }
            blocks.append(DayBlock(level: level, first: day))
            day += 1 << level
        }
        return blocks
    }

    public var description: String { "\(length) days from \(CalendarDay(number: first))" }
}

/// How a report reads the rollups: which dimension's sums, which blocks of days for which group, and
/// the days whose open tasks fall in each age of the backlog. Nil when the filter narrows two dimensions
/// at once (an agency's tasks of one category): no rollup holds their product, so the report takes the
/// exact path.
public struct RollupPlan: Sendable, Hashable {
    public enum Dimension: String, Sendable, Hashable, CaseIterable {
        case all, agency, category, jurisdiction
    }

    /// A block of days and what it counts toward: a group (the month, for the trend; nil: the row's
    /// own key) and the backlog age its open tasks have (nil: the period's figures).
    public struct Part: Sendable, Hashable {
        public var block: DayBlock
        public var label: String?
        public var age: BacklogAge?
    }

    /// The dimension the figures and group counts read, and the one group of it the filter keeps (nil: all).
    public var dimension: Dimension
    public var key: String?
    /// The dimension and group whose findings the report counts: the filter's, or all.
    public var findingsDimension: Dimension
    public var findingsKey: String
    public var parts: [Part]

    public init?(_ filter: StatsFilter, today: CalendarDay) {
        let narrowed: [(Dimension, String)] = [
            filter.agency.map { (.agency, $0.rawValue) }, filter.category.map { (.category, $0) },
            filter.jurisdiction.map { (.jurisdiction, $0.rawValue) },
        ].compactMap { $0 }
        guard narrowed.count <= 1 else { return nil }
        (findingsDimension, findingsKey) = narrowed.first ?? (.all, "all")
        switch filter.grouping {
        case .agency, .category, .jurisdiction:
            guard let grouped = Dimension(rawValue: filter.grouping.rawValue) else { return nil }
            if let (dimension, _) = narrowed.first, dimension != grouped { return nil }
            dimension = grouped
            key = narrowed.first?.1
        case .month, .all:
            dimension = findingsDimension
            key = findingsKey
        }
        let ranges: [(label: String?, period: StatsPeriod)] =
            filter.grouping == .month ? Self.months(of: filter.period) : [(filter.grouping == .all ? "all" : nil, filter.period)]
        let ages: [(BacklogAge, ClosedRange<Int>)] = [
            (.upTo7Days, (today.number - 7)...Int.max / 2), (.upTo30Days, (today.number - 30)...(today.number - 8)),
            (.upTo90Days, (today.number - 90)...(today.number - 31)), (.over90Days, (Int.min / 2)...(today.number - 91)),
        ]
        var parts: [Part] = []
        for range in ranges {
            parts += DayBlock.cover(range.period).map { Part(block: $0, label: range.label, age: nil) }
            for (age, days) in ages {
                let first = max(range.period.from.number, days.lowerBound)
                let last = min(range.period.to.number, days.upperBound)
                guard first <= last else { continue }
                parts += DayBlock.cover(StatsPeriod(from: CalendarDay(number: first), to: CalendarDay(number: last))).map {
                    Part(block: $0, label: range.label, age: age)
                }
            }
        }
        self.parts = parts
    }

    /// The calendar months of `period`, each cut to the period, labelled `YYYY-MM`.
    static func months(of period: StatsPeriod) -> [(label: String?, period: StatsPeriod)] {
        var months: [(label: String?, period: StatsPeriod)] = []
        var day = period.from
        while day <= period.to {
            let next = day.month == 12 ? CalendarDay(year: day.year + 1, month: 1, day: 1) : CalendarDay(year: day.year, month: day.month + 1, day: 1)
            let last = min(period.to, CalendarDay(number: next.number - 1))
            months.append((String(format: "%04d-%02d", day.year, day.month), StatsPeriod(from: day, to: last)))
            day = next
        }
        return months
    }
}

/// How a report from the rollups compares with the exact path's for the same filter: every exact figure
/// (counts, shares, backlog, working days) must be equal, and each hour percentile within 1%.
public struct RollupComparison: Sendable, Hashable {
    /// The figures that differ, named (`so-nnmt acknowledge judged: 10 vs 11`).
    public var mismatches: [String] = []
    /// Per group, the largest relative error of an hour percentile (0 when exact).
    public var largestHourError: [String: Double] = [:]

    public init(rollups: LatencyReport, exact: LatencyReport) {
        func check<T: Equatable>(_ label: String, _ ours: T, _ theirs: T) {
            if ours != theirs { mismatches.append("\(label): \(ours) vs \(theirs)") }
        }
        let exactGroups = Dictionary(exact.groups.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        check("groups", rollups.groups.map(\.key).sorted(), exact.groups.map(\.key).sorted())
        check("findings", rollups.findings, exact.findings)
        for group in rollups.groups {
            guard let other = exactGroups[group.key] else { continue }
            let key = group.key
            check("\(key) tasks", group.tasks, other.tasks)
            check("\(key) backlog", group.backlog, other.backlog)
            check("\(key) extensions", group.extensions, other.extensions)
            check("\(key) transfers", group.transfers, other.transfers)
            check("\(key) declines", group.declines, other.declines)
            check("\(key) escalations", group.escalations, other.escalations)
            check("\(key) accounted for", group.accountedFor, other.accountedFor)
            var largest = 0.0
            for stage in group.stages {
                guard let theirs = other[stage.stage] else {
                    mismatches.append("\(key) \(stage.stage.rawValue): missing")
                    continue
                }
                let label = "\(key) \(stage.stage.rawValue)"
                check("\(label) count", stage.count, theirs.count)
                check("\(label) judged", stage.judged, theirs.judged)
                check("\(label) on time", stage.onTime, theirs.onTime)
                check("\(label) working days", stage.workingDays, theirs.workingDays)
                check("\(label) hours withheld", stage.hours == nil, theirs.hours == nil)
                guard let ours = stage.hours, let exact = theirs.hours else { continue }
                for (rank, value, truth) in [("p50", ours.p50, exact.p50), ("p90", ours.p90, exact.p90), ("p99", ours.p99, exact.p99)] {
                    // A span under a second reads back as zero: its error is under a second, not relative.
                    if truth < HourBuckets.smallest && value == 0 { continue }
                    let error = truth == 0 ? (value == 0 ? 0 : .infinity) : abs(value - truth) / truth
                    largest = max(largest, error)
                    if error > HourBuckets.relativeAccuracy + 1e-9 { mismatches.append("\(label) hours \(rank): \(value) vs \(truth)") }
                }
            }
            largestHourError[key] = largest
        }
    }

    /// The largest relative error of an hour percentile in any group.
    public var largest: Double { largestHourError.values.max() ?? 0 }
}
