import Foundation
import Postgres
import Synchronization
import Testing

@testable import TipwireStore

/// The gathering of concurrent requests into shared round trips, behind ingest's group commit and the
/// token lookups: who shares a batch, who waits, and who is shed.
@Suite("Shared batches", .timeLimit(.minutes(1)))
struct SharedBatchesTests {
    /// Every batch the runner was given, and a gate the first one waits at until the test opens it.
    final class Recorder: Sendable {
        let batches = Mutex<[[Int]]>([])
        let bounds = Mutex<[Duration?]>([])
        let firstBatchGate = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let firstBatchStarted = Mutex(false)

        func record(_ batch: [Int]) async {
            let isFirst = batches.withLock { batches in
                batches.append(batch)
                return batches.count == 1
            }
            bounds.withLock { $0.append(PostgresClient.admissionBound) }
            if isFirst {
                await withCheckedContinuation { continuation in
                    firstBatchGate.withLock { $0 = continuation }
                    firstBatchStarted.withLock { $0 = true }
                }
            }
        }

        /// Returns once the first batch runs (and waits at the gate).
        func firstBatchRuns() async throws {
            while !firstBatchStarted.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        }

        func openFirstBatch() {
            firstBatchGate.withLock { $0?.resume() }
        }
    }

    static func batches(
        _ recorder: Recorder, maxBatch: Int = 64, started: SharedBatches<Int, Int>.Started = .finishes,
        answer: @escaping @Sendable ([Int]) -> [Result<Int, any Error>] = { $0.map { .success($0 * 10) } }
    ) -> SharedBatches<Int, Int> {
        SharedBatches(maxBatch: maxBatch, maxConcurrent: 1, started: started, shedMessage: { "shed after \($0)" }) { requests in
            await recorder.record(requests)
            return answer(requests)
        }
    }

    /// Submits `request` while the first batch runs, and returns once it is queued.
    static func submitFirst(_ batches: SharedBatches<Int, Int>, _ recorder: Recorder, bound: Duration? = nil) async throws -> Task<Int, any Error> {
        let task = Task { try await DatabaseAdmission.bounded(by: bound) { try await batches.submit(1) } }
        try await recorder.firstBatchRuns()
        return task
    }

    /// Submits `requests` one after another, each once the one before is queued.
    static func submitQueued(_ batches: SharedBatches<Int, Int>, _ requests: [Int], bound: Duration? = nil) async throws -> [Task<Int, any Error>] {
        var tasks: [Task<Int, any Error>] = []
        for request in requests {
            let queued = batches.queued
            tasks.append(Task { try await DatabaseAdmission.bounded(by: bound) { try await batches.submit(request) } })
            while batches.queued == queued { try await Task.sleep(for: .milliseconds(2)) }
        }
        return tasks
    }

    @Test func requestsArrivingWhileABatchRunsShareTheNextAndEachGetsItsOwnAnswer() async throws {
        let recorder = Recorder()
        let batches = Self.batches(recorder)
        let first = try await Self.submitFirst(batches, recorder)
        let queued = try await Self.submitQueued(batches, [2, 3, 4, 5])
        recorder.openFirstBatch()
        #expect(try await first.value == 10)
        for (request, task) in zip([2, 3, 4, 5], queued) { #expect(try await task.value == request * 10) }
        // The first batch started before the others arrived, so it could not hold them.
        #expect(recorder.batches.withLock { $0 } == [[1], [2, 3, 4, 5]])
    }

    @Test func aBatchTakesAtMostMaxBatchOfTheQueueOldestFirst() async throws {
        let recorder = Recorder()
        let batches = Self.batches(recorder, maxBatch: 2)
        let first = try await Self.submitFirst(batches, recorder)
        let queued = try await Self.submitQueued(batches, [2, 3, 4, 5, 6])
        recorder.openFirstBatch()
        _ = try await first.value
        for task in queued { _ = try await task.value }
        #expect(recorder.batches.withLock { $0 } == [[1], [2, 3], [4, 5], [6]])
    }

    @Test func aRequestStillQueuedAtItsBoundIsShedAndOneInAStartedBatchFinishes() async throws {
        let recorder = Recorder()
        let batches = Self.batches(recorder, started: .finishes)
        let first = try await Self.submitFirst(batches, recorder, bound: .milliseconds(100))
        let started = ContinuousClock.now
        await #expect(throws: PostgresError.self) {
            try await DatabaseAdmission.bounded(by: .milliseconds(150)) { _ = try await batches.submit(2) }
        }
        let waited = started.duration(to: .now)
        #expect(waited >= .milliseconds(150) && waited < .seconds(5), "shed after \(waited)")
        recorder.openFirstBatch()
        #expect(try await first.value == 10, "the request in a batch finishes past its bound")
        #expect(recorder.batches.withLock { $0 } == [[1]], "the shed request reached no batch")
        // A finishing batch waits as long as the pool allows: it runs with no bound of its own.
        #expect(recorder.bounds.withLock { $0 } == [nil])
    }

    @Test func aBatchOfReadsWaitsForItsConnectionOnlyUntilItsEarliestBound() async throws {
        let recorder = Recorder()
        let batches = Self.batches(recorder, started: .shedsAtEarliestBound)
        let first = try await Self.submitFirst(batches, recorder, bound: .seconds(20))
        let late = try await Self.submitQueued(batches, [2], bound: .seconds(30))[0]
        let unbounded = try await Self.submitQueued(batches, [3])[0]
        recorder.openFirstBatch()
        #expect(try await first.value == 10)
        #expect(try await late.value == 20)
        #expect(try await unbounded.value == 30)
        #expect(recorder.batches.withLock { $0 } == [[1], [2, 3]])
        let bounds = recorder.bounds.withLock { $0 }
        #expect(bounds.count == 2, "\(bounds)")
        let (firstBound, secondBound) = (bounds.first ?? nil, bounds.dropFirst().first ?? nil)
        #expect(firstBound.map { $0 > .seconds(15) && $0 <= .seconds(20) } == true, "the first batch: what is left of 20 s, got \(bounds)")
        #expect(secondBound.map { $0 > .seconds(25) && $0 <= .seconds(30) } == true, "the second: its earliest bound, got \(bounds)")
    }

    @Test func failuresReachOnlyTheirOwnRequestsAndAMiscountFailsTheWholeBatch() async throws {
        struct Odd: Error {}
        let recorder = Recorder()
        let batches = Self.batches(recorder) { requests in requests.map { $0 % 2 == 1 ? .failure(Odd()) : .success($0) } }
        let first = try await Self.submitFirst(batches, recorder)
        let queued = try await Self.submitQueued(batches, [2, 3])
        recorder.openFirstBatch()
        await #expect(throws: Odd.self) { try await first.value }
        #expect(try await queued[0].value == 2)
        await #expect(throws: Odd.self) { try await queued[1].value }

        let miscounting = SharedBatches<Int, Int>(maxBatch: 8, maxConcurrent: 1, started: .finishes, shedMessage: { "\($0)" }) { _ in [] }
        let error = await #expect(throws: PostgresError.self) { try await miscounting.submit(1) }
        #expect(error?.message.contains("gave 0 answers") == true, "\(String(describing: error))")
    }
}
