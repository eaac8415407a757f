import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization
import TipwireCore
import TipwireStore

/// Where the engine reads the time. Tests inject a clock they move by hand, so days pass in milliseconds.
public struct EngineClock: Sendable {
    public let now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date) { self.now = now }

    public static let system = EngineClock { Date() }
}

public struct DeadlineEngineConfiguration: Sendable {
    /// Clocks claimed per transaction.
    public var batchSize: Int
    /// The longest the engine sleeps without looking, should a NOTIFY be missed.
    public var idlePoll: Duration
    /// How often a standby engine tries to take over.
    public var standbyRetry: Duration
    /// The pause after a failed pass before retrying.
    public var errorBackoff: Duration
    /// Names this instance in `deadline_rungs.raised_by`.
    public var instance: String
    /// How often stale days are folded into the rollups at most: how far the figures' watermark lags.
    public var foldEvery: Duration

    public init(
        batchSize: Int = 2000, idlePoll: Duration = .seconds(30), standbyRetry: Duration = .seconds(1), errorBackoff: Duration = .milliseconds(500),
        instance: String = DeadlineEngineConfiguration.defaultInstance(), foldEvery: Duration = .seconds(2)
    ) {
        self.foldEvery = foldEvery
        self.batchSize = max(1, batchSize)
        self.idlePoll = idlePoll
        self.standbyRetry = standbyRetry
        self.errorBackoff = errorBackoff
        self.instance = instance
    }

    /// `host:pid`.
    public static func defaultInstance() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }
}

/// Raises reminders, overdue notices and escalations when duties run late (docs/adr/0004).
///
/// One engine is active at a time (a `SingleActiveWorker`; a standby takes over within `standbyRetry`
/// when the active one's session ends). It claims clocks whose
/// next rung has come with `FOR UPDATE SKIP LOCKED`, in batches, and raises each rung in one
/// transaction with its record and its outbox rows: the record's key makes each rung happen once,
/// and the outbox delivers it at least once. Between passes it sleeps until the earliest next rung,
/// a NOTIFY from a transition that started or moved a clock, or `idlePoll`, whichever comes first.
public final class DeadlineEngine: Service, Sendable {
    let configuration: DeadlineEngineConfiguration
    let clock: EngineClock
    let logger: Logger
    private let worker: SingleActiveWorker
    private let database: TipwireDatabase
    private let rollups: StatsRollups
    private let lastPassTime = Mutex<Date?>(nil)
    private let raised = Counter(label: "tipwire_deadline_rungs_raised_total")
    private let passes = Metrics.Timer(label: "tipwire_deadline_pass_seconds")

    public init(
        stores: TipwireStores, configuration: DeadlineEngineConfiguration = .init(), clock: EngineClock = .system,
        logger: Logger = Logger(label: "tipwire.deadlines")
    ) {
        self.configuration = configuration
        self.clock = clock
        var logger = logger
        logger[metadataKey: "instance"] = "\(configuration.instance)"
        self.logger = logger
        self.database = stores.database
        self.rollups = StatsRollups(client: stores.database.client)
        self.worker = SingleActiveWorker(
            name: "deadline engine", lock: .deadlines, database: stores.database, pauses: (configuration.standbyRetry, configuration.errorBackoff),
            logger: logger)
    }

    /// Makes a sleeping engine look now (tests call it after moving their clock).
    public func wake() { worker.wakeup.ring() }

    /// The clock's time at the start of the last completed pass: every rung due by then has been raised.
    public var lastPass: Date? { lastPassTime.withLock { $0 } }

    /// Runs as the pipeline (`DatabaseScope.system`): it reads every party's rows.
    public func run() async throws {
        try await DatabaseScope.system {
            try await cancelWhenGracefulShutdown {
                await self.worker.run { session in try await self.passes(on: session) }
            }
        }
    }

    /// Runs passes until cancelled or an error, on the session that holds the engine lock.
    private func passes(on session: WorkerSession) async throws {
        while !Task.isCancelled {
            let claimed = try await pass(on: session)
            // The figures summed ahead follow, a slice of stale days per pass (docs/analytics.md#rollups).
            let folded = try await rollups.fold(now: clock.now())
            let next = try await session.nextDue()
            var sleep = folded.more ? .zero : min(configuration.idlePoll, configuration.foldEvery)
            if let next {
                // A clock already due but claimed by nobody is held by a transition's transaction: look again shortly.
                let wait = max(next.timeIntervalSince(clock.now()), claimed == 0 ? 0.1 : 0)
                sleep = min(sleep, .milliseconds(Int64(wait * 1000) + 1))
            }
            await worker.wakeup.wait(timeout: sleep)
        }
    }

    /// Raises every rung whose time has come, batch after batch, until none is left. Returns the clocks claimed.
    private func pass(on session: WorkerSession) async throws -> Int {
        let started = ContinuousClock.now
        let now = clock.now()
        let calendar = try await session.calendar()
        var total = 0
        var claimed = 0
        while !Task.isCancelled {
            let batch = try await session.raiseDue(at: now, limit: configuration.batchSize, engine: configuration.instance, calendar: calendar)
            total += batch.raised
            claimed += batch.claimed
            // A clock far behind (the engine was down) comes back with its next rung already due: keep
            // claiming until nothing is left, so every rung due by `now` is raised in this pass.
            if batch.claimed == 0 { break }
        }
        // Disclosure requests and protection cases climb the same ladder; their rungs are few.
        total += try await LadderStore.announceDue(at: now, calendar: calendar, on: database.client)
        if total > 0 {
            raised.increment(by: total)
            passes.record(duration: started.duration(to: .now))
            logger.info("deadline rungs raised", metadata: ["rungs": "\(total)", "at": "\(formatTimestamp(now))"])
        }
        lastPassTime.withLock { $0 = now }
        return claimed
    }
}
