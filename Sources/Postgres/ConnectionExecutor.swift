import Foundation

/// A thread of one connection's own, usable as a `TaskExecutor`.
///
/// libpq calls block, so they never run on Swift's cooperative pool. Instead each
/// connection owns this thread: `PostgresClient.withConnection` runs its body with
/// the executor preferred, so statements issued inside call libpq right here, with
/// no thread hop per statement. Code elsewhere hops here and back once per statement.
final class ConnectionExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
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
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
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
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
        }
    }
}
