import ArgumentParser
import Logging
import TipwireCommandLine
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
    @OptionGroup var topics: TopicOptions
    @OptionGroup var logging: LoggingOptions

    @OptionGroup var kafka: KafkaOptions

    func run() async throws {
        try logging.bootstrap()
        let endpoint = try kafka.endpoint()
        let stores = try database.stores(poolSize: 2, links: .idsOnly)  // it serves no document links
        try await runAlone(try PipelineKafka(endpoint: endpoint, embedded: nil, topics: topics).relay(relay, stores: stores), stores: stores)
    }
}
