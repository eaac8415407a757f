import Foundation
import Testing
import TipwireCore

struct RollupsTests {
    @Test func blocksCoverEveryRunOfDaysExactlyAndFew() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let from = Int.random(in: 20_000...21_000, using: &random)
            let to = from + Int.random(in: 0...1830, using: &random)
            let blocks = DayBlock.cover(StatsPeriod(from: CalendarDay(number: from), to: CalendarDay(number: to)))
            var next = from
            for block in blocks {
                #expect(block.first == next, "blocks are contiguous")
                #expect(block.first % block.length == 0, "aligned")
                #expect(DayBlock.levels.contains(block.level))
                next = block.last + 1
            }
            #expect(next == to + 1)
            let largest = blocks.map(\.level).max() ?? 0
            for level in 0..<largest { #expect(blocks.filter { $0.level == level }.count <= 2, "at most two of each smaller level") }
            #expect(blocks.count <= 2 * DayBlock.levels.count + (to - from) / 512)
        }
    }

    @Test func aDayIsInOneBlockOfEachLevelAndTheCoverUsesThem() {
        let day = CalendarDay(year: 2026, month: 9, day: 21).number
        for level in DayBlock.levels {
            let block = DayBlock(level: level, containing: day)
            #expect(block.first <= day && day <= block.last && block.first % block.length == 0)
        }
        #expect(
            DayBlock.cover(StatsPeriod(from: CalendarDay(number: 512 * 40), to: CalendarDay(number: 512 * 41 - 1))) == [
                DayBlock(level: 9, first: 512 * 40)
            ])
    }

    @Test func everyHourReadsBackWithinOnePercent() {
        var value = HourBuckets.smallest
        while value < 24 * 366 * 10 {
            let back = HourBuckets.value(HourBuckets.bucket(value))
            #expect(abs(back - value) / value <= HourBuckets.relativeAccuracy + 1e-12, "\(value) h read back as \(back)")
            value *= 1.0037
        }
        #expect(HourBuckets.value(HourBuckets.bucket(0)) == 0)
        #expect(HourBuckets.value(HourBuckets.bucket(0.5 / 3600)) == 0, "under a second is zero")
    }

    @Test func countsByBucketGiveTheNearestRankQuantilesOfTheValues() {
        var random = SystemRandomNumberGenerator()
        for size in [1, 2, 9, 10, 11, 99, 100, 101, 1000] {
            let values = (0..<size).map { _ in Double(Int.random(in: 0...40, using: &random)) }
            var counts = BucketCounts()
            for value in values { counts.add(1, to: Int(value)) }
            #expect(counts.total == size)
            #expect(counts.quantiles { Double($0) } == Quantiles(of: values), "\(size) values")
        }
        #expect(BucketCounts().quantiles { Double($0) } == nil)
        var merged = BucketCounts(buckets: [1, 3], counts: [2, 1])
        merged.merge(BucketCounts(buckets: [3, 5], counts: [1, 0]))
        #expect(merged.counts == [1: 2, 3: 2] && merged.total == 4)
    }

    @Test func aFilterOnOneDimensionReadsItsRollupAndTwoTakeTheExactPath() throws {
        let today = CalendarDay(year: 2026, month: 12, day: 7)
        let period = StatsPeriod(from: CalendarDay(year: 2026, month: 3, day: 10), to: CalendarDay(year: 2026, month: 9, day: 21))
        let agency = try #require(PartyCode(rawValue: "so-nnmt"))
        let byAgency = try #require(RollupPlan(StatsFilter(period: period), today: today))
        #expect(byAgency.dimension == .agency && byAgency.key == nil && byAgency.findingsDimension == .all)
        let oneAgency = try #require(RollupPlan(StatsFilter(period: period, grouping: .month, agency: agency), today: today))
        #expect(oneAgency.dimension == .agency && oneAgency.key == "so-nnmt" && oneAgency.findingsKey == "so-nnmt")
        #expect(Set(oneAgency.parts.compactMap(\.label)) == ["2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"])
        #expect(RollupPlan(StatsFilter(period: period, grouping: .category, agency: agency), today: today) == nil)
        #expect(RollupPlan(StatsFilter(period: period, grouping: .all, agency: agency, category: "land"), today: today) == nil)
        // The period's days, once, and each backlog age's days within them.
        let whole = byAgency.parts.filter { $0.age == nil }.map(\.block.length).reduce(0, +)
        #expect(whole == period.to.number - period.from.number + 1)
        let aged = byAgency.parts.filter { $0.age != nil }.map(\.block.length).reduce(0, +)
        #expect(aged == whole, "every day of a past period is in one age")
    }
}
