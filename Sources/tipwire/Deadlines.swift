import ArgumentParser
import Logging
import TipwireCommandLine
import TipwirePipeline
import TipwireStore

struct Deadlines: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run only the deadline engine: reminders, overdue notices and escalations when duties run late.",
        discussion: """
            Every running duty (a task's acknowledge and resolve stages, an information
            request's answer) has a clock in the database. The engine raises each rung of
            its ladder when its time comes: a reminder to the holder at the policy's
            reminder point (80%), an overdue notice to the holder's head at the due time,
            then escalations to the City Inspectorate and to city leadership, one rung per
            N working days (vn.tipwire.task.reminder.v1, vn.tipwire.task.overdue.v1,
            vn.tipwire.escalation.raised.v1, through the outbox). Each rung is raised
            exactly once, however often the engine restarts.

            One engine is active at a time (a PostgreSQL advisory lock); start more for
            standby, and one takes over within a second if the active one dies. `tipwire
            serve` and `tipwire dev` run one too unless given --no-deadlines. Needs no
            Kafka: the relay delivers what it raises. Stops gracefully on SIGTERM or
            SIGINT.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var engine: DeadlineOptions
    @OptionGroup var logging: LoggingOptions
    @OptionGroup var listener: OperationsListenerOptions

    func run() async throws {
        try logging.bootstrap()
        let registry = bootstrapMetrics()
        let stores = try database.stores(poolSize: 2, links: .idsOnly)  // it serves no document links
        try await runAlone(engine.engine(stores: stores), stores: stores, kafka: nil, listener: listener, registry: registry)
    }
}
