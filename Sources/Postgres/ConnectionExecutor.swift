import Foundation

/// A thread of one connection's own, usable as a `TaskExecutor`.
///
/// libpq calls block, so they never run on Swift's cooperative pool. Instead each
/// connection owns this thread: `PostgresClient.withConnection` runs its body with
/// the executor preferred, so statements issued inside call libpq right here, with
/// no thread hop per statement. Code elsewhere hops here and back once per statement.
final class ConnectionExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private enum Work {
        case job(UnownedJob)
        case closure(@Sendable () -> Void)
    }
    private var jobs: [Work] = []
    private var stopped = false
    private var threadID: pthread_t?

    init(name: String) {
        let started = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            condition.lock()
            threadID = pthread_self()
            condition.unlock()
            started.signal()
            runJobs()
        }
        thread.name = name
        thread.start()
        started.wait()
    }

    /// True on the executor's own thread.
    var isCurrent: Bool {
        condition.lock()
        defer { condition.unlock() }
        return threadID.map { pthread_equal($0, pthread_self()) != 0 } ?? false
    }

    func enqueue(_ job: consuming ExecutorJob) {
        append(.job(UnownedJob(job)))
    }

    /// Runs `work` on the thread after what is queued now (closing a connection behind its last statement).
    func submit(_ work: @escaping @Sendable () -> Void) {
        append(.closure(work))
    }

    private func append(_ work: Work) {
        condition.lock()
        jobs.append(work)
        condition.signal()
        condition.unlock()
    }

    /// Lets the thread finish once queued jobs have run.
    func shutdown() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func runJobs() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty && stopped {
                condition.unlock()
                return
            }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for work in batch {
                switch work {
                case .job(let job): job.runSynchronously(on: asUnownedTaskExecutor())
                case .closure(let closure): closure()
                }
            }
        }
    }
}
