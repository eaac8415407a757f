import Logging
import Metrics
import TipwireStore

/// Keeps one instance of a worker active per database schema, with any others standing by.
///
/// The relay and the deadline engine both work this way: each pass of `run` opens a `WorkerSession` (a
/// connection of its own holding the worker's `ServiceLock`), listens on the lock's channel, and hands the
/// session to the worker until the worker returns or throws. Closing the session, however the pass ends,
/// releases the lock at once, so a standby takes over within `standbyRetry` when the active one stops or
/// dies. Failures are logged and retried after `errorBackoff`; only cancellation ends `run`.
struct SingleActiveWorker: Sendable {
    /// Names the worker in logs: "outbox relay", "deadline engine".
    let name: String
    let lock: ServiceLock
    let database: TipwireDatabase
    /// How long a standby waits before trying the lock again, and the pause after a failure.
    let pauses: (standbyRetry: Duration, errorBackoff: Duration)
    let logger: Logger
    /// Rung by every NOTIFY on the lock's channel; the worker waits on it when idle.
    let wakeup = Wakeup()

    /// Runs passes until the task is cancelled. `recover` is told of each failure before the backoff (the relay
    /// drops its producer after a failed round).
    func run(
        isolation: isolated (any Actor)? = #isolation,
        recover: (any Error) async -> Void = { _ in },
        _ work: (WorkerSession) async throws -> Void
    ) async {
        // 1 while this process holds the lock: summed over processes, exactly 1 per worker.
        let active = Gauge(label: "tipwire_worker_active", dimensions: [("worker", "\(lock)")])
        active.record(0)
        while !Task.isCancelled {
            do {
                guard let session = try await WorkerSession.open(holding: lock, in: database, logger: logger) else {
                    try await Task.sleep(for: pauses.standbyRetry)
                    continue
                }
                defer {
                    active.record(0)
                    session.close()
                }
                active.record(1)
                logger.info("\(name) active")
                try await session.onNotification { [wakeup] in wakeup.ring() }
                try await session.run { try await work(session) }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning("\(name) interrupted; retrying", metadata: ["error": "\(error)"])
                await recover(error)
                try? await Task.sleep(for: pauses.errorBackoff)
            }
        }
    }
}
