import Foundation

/// The simulation's agenda: steps in time order (ties in the order they were added).
struct Agenda {
    private var heap: [(time: Date, order: Int, step: DemoHistory.Step)] = []
    private var added = 0

    mutating func add(_ time: Date, _ step: DemoHistory.Step) {
        heap.append((time, added, step))
        added += 1
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func next() -> (Date, DemoHistory.Step)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let first = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count && Self.before(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count && Self.before(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return (first.time, first.step)
    }

    private static func before(_ a: (time: Date, order: Int, step: DemoHistory.Step), _ b: (time: Date, order: Int, step: DemoHistory.Step)) -> Bool {
        (a.time, a.order) < (b.time, b.order)
    }
}

/// SplitMix64: the same seed gives the same history.
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A double in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func uniform(_ range: Range<Double>) -> Double { range.lowerBound + unit() * (range.upperBound - range.lowerBound) }

    mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    /// A log-normal value with the given median (Box–Muller).
    mutating func logNormal(median: Double, spread: Double) -> Double {
        let gaussian = (-2 * log(max(unit(), 1e-12))).squareRoot() * cos(2 * Double.pi * unit())
        return median * exp(spread * gaussian)
    }

    mutating func weighted<T>(_ choices: [(T, Double)]) -> T {
        var left = unit() * choices.map(\.1).reduce(0, +)
        for (choice, weight) in choices {
            left -= weight
            if left < 0 { return choice }
        }
        return choices[choices.count - 1].0
    }
}
