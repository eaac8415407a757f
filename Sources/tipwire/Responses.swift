import ArgumentParser
import Logging
import TipwireCommandLine
import TipwireStore

struct Responses: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run only the response consumer: applies agencies' responses from tipwire.responses.<agency>.",
        discussion: """
            Members of consumer group tipwire-responses share the response topics' partitions; start several to
            scale out. Each response is applied with its ce_id in one transaction and its offset stored after
            the commit, so a consumer killed at any point loses nothing and applies nothing twice. Bad responses
            go to tipwire.dlq.responses.<agency>. `tipwire serve` and `tipwire dev` run one too unless given --no-responses.
            Stops gracefully on SIGTERM or SIGINT.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var responses: ResponseOptions
    @OptionGroup var topics: TopicOptions
    @OptionGroup var logging: LoggingOptions

    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var listener: OperationsListenerOptions

    @Option(name: .customLong("public-url"), help: "Where clients reach the API, for document URLs in events (env TIPWIRE_PUBLIC_URL).")
    var publicURLFlag: String?

    func run() async throws {
        try logging.bootstrap()
        let registry = bootstrapMetrics()
        let endpoint = try kafka.endpoint()
        let links = DocumentLinks(publicURL: publicURLFlag ?? Environment.value("TIPWIRE_PUBLIC_URL") ?? "http://127.0.0.1:8080")
        let stores = try database.stores(poolSize: 4, links: links)
        try await runAlone(
            try PipelineKafka(endpoint: endpoint, embedded: nil, topics: topics).responseConsumer(responses, stores: stores), stores: stores,
            kafka: endpoint, listener: listener, registry: registry)
    }
}
