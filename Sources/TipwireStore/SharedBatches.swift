import Postgres
import Synchronization

/// Gathers concurrent requests into shared batches, one database round trip each: ingest's group commit
/// and the token lookups that authenticate every API request.
///
/// At most `maxConcurrent` batches run at once. A request arriving while they all run queues, and the
/// next batch to start takes the queue, oldest first, up to `maxBatch`. So a batch always starts after
/// every one of its requests arrived: it sees everything committed before any of them was made (a token
/// revoked before a request arrives is never accepted for it).
///
/// Under overload a request sheds rather than queues: with `PostgresClient.admissionBound` set (the API
/// sets it per request), one still queued when its bound passes leaves the queue and fails with
/// `.admissionTimeout`. What happens to a batch that has started is `started`'s choice.
final class SharedBatches<Request: Sendable, Answer: Sendable>: Sendable {
    /// How a started batch treats its requests' admission bounds.
    enum Started {
        /// It waits for its connection as long as the pool allows and finishes for every request in it:
        /// for writes, whose requests must not fail once their commit may have begun.
        case finishes
        /// It waits for its connection only until the earliest bound among its requests passes, then
        /// fails them all with `.admissionTimeout`: for reads.
        case shedsAtEarliestBound
    }

    typealias Run = @Sendable ([Request]) async -> [Result<Answer, any Error>]

    private struct Pending {
        let id: UInt64
        let request: Request
        let deadline: ContinuousClock.Instant?
        let continuation: CheckedContinuation<Answer, any Error>
        /// Sheds the request if it is still queued when its admission bound passes.
        var shedding: Task<Void, Never>?
    }

    private struct Queue {
        var pending: [Pending] = []
        var running = 0
        var nextID: UInt64 = 0
    }

    private let maxBatch: Int
    private let maxConcurrent: Int
    private let started: Started
    /// What a shed request's error says, given its bound ("…; nothing was written").
    private let shedMessage: @Sendable (Duration) -> String
    /// Runs one batch: an answer per request, in order.
    private let run: Run
    private let queue = Mutex(Queue())

    init(maxBatch: Int, maxConcurrent: Int, started: Started, shedMessage: @escaping @Sendable (Duration) -> String, run: @escaping Run) {
        self.maxBatch = max(1, maxBatch)
        self.maxConcurrent = max(1, maxConcurrent)
        self.started = started
        self.shedMessage = shedMessage
        self.run = run
    }

    /// How many requests wait for a batch to take them.
    var queued: Int { queue.withLock { $0.pending.count } }

    /// `request`'s answer, from the batch that takes it.
    func submit(_ request: Request) async throws -> Answer {
        let bound = PostgresClient.admissionBound
        let deadline = bound.map { ContinuousClock.now + $0 }
        return try await withCheckedThrowingContinuation { continuation in
            let (id, startRunner) = queue.withLock { queue in
                queue.nextID += 1
                queue.pending.append(Pending(id: queue.nextID, request: request, deadline: deadline, continuation: continuation))
                guard queue.running < maxConcurrent else { return (queue.nextID, false) }
                queue.running += 1
                return (queue.nextID, true)
            }
            if startRunner {
                // Unstructured on purpose: a client hanging up must not cancel a batch other requests share.
                // The runner bounds its own waits (`Started`), not by the bound of the request that started it.
                Task { await PostgresClient.$admissionBound.withValue(nil) { await self.runWhilePending() } }
            }
            if let bound, let deadline { shed(id, at: deadline, bound: bound) }
        }
    }

    /// Fails the queued request `id` with `.admissionTimeout` if no batch has taken it by `deadline`, the
    /// end of its admission bound.
    private func shed(_ id: UInt64, at deadline: ContinuousClock.Instant, bound: Duration) {
        let timer = Task {
            guard (try? await Task.sleep(until: deadline, clock: .continuous)) != nil else { return }
            let waiting = queue.withLock { queue -> Pending? in
                guard let index = queue.pending.firstIndex(where: { $0.id == id }) else { return nil }
                return queue.pending.remove(at: index)
            }
            waiting?.continuation.resume(throwing: PostgresError(.admissionTimeout, shedMessage(bound)))
        }
        let taken = queue.withLock { queue -> Bool in
            guard let index = queue.pending.firstIndex(where: { $0.id == id }) else { return true }
            queue.pending[index].shedding = timer
            return false
        }
        if taken { timer.cancel() }
    }

    private func runWhilePending() async {
        while true {
            let batch = queue.withLock { queue -> [Pending] in
                if queue.pending.isEmpty {
                    queue.running -= 1
                    return []
                }
                let batch = Array(queue.pending.prefix(maxBatch))
                queue.pending.removeFirst(batch.count)
                return batch
            }
            if batch.isEmpty { return }
            for pending in batch { pending.shedding?.cancel() }
            let answers = await answer(batch)
            for (pending, answer) in zip(batch, answers) { pending.continuation.resume(with: answer) }
        }
    }

    private func answer(_ batch: [Pending]) async -> [Result<Answer, any Error>] {
        let requests = batch.map(\.request)
        let answers: [Result<Answer, any Error>]
        if case .shedsAtEarliestBound = started, let earliest = batch.compactMap(\.deadline).min() {
            let left = max(ContinuousClock.now.duration(to: earliest), .milliseconds(1))
            answers = await PostgresClient.$admissionBound.withValue(left) { await run(requests) }
        } else {
            answers = await run(requests)
        }
        guard answers.count == batch.count else {
            let miscount = PostgresError(.usage, "a shared batch of \(batch.count) requests gave \(answers.count) answers")
            return batch.map { _ in .failure(miscount) }
        }
        return answers
    }
}
