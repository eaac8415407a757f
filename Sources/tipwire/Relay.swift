import ArgumentParser
import Logging
import TipwirePipeline
import TipwireStore

struct Relay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run only the outbox relay: moves committed events from PostgreSQL to Kafka.",
        discussion: """
            One relay is active at a time (a PostgreSQL advisory lock); start more for standby, and one takes
            over within a second if the active one dies. `tipwire serve` and `tipwire dev` run one too unless
            given --no-relay. Stops gracefully on SIGTERM or SIGINT.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var relay: RelayOptions
    @OptionGroup var logging: LoggingOptions

    @OptionGroup var kafka: KafkaOptions

    func run() async throws {
        try logging.bootstrap()
        let endpoint = try kafka.endpoint()
        let db = TipwireDatabase(url: try database.databaseURL(), poolSize: 2, logger: Logger(label: "tipwire.db"))
        try await runAlone(try relay.makeRelay(client: db.client, kafka: endpoint, embedded: nil), pool: db.client)
    }
}
