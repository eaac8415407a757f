import Postgres
import UnixSignals
import ArgumentParser
import Foundation
import Hummingbird
import Kafka
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import TipwireAPI
import TipwirePipeline
import TipwireStore

/// Options for the HTTP server.
struct ServerOptions: ParsableArguments {
    @Option(name: .customLong("host"), help: "Address to listen on (env TIPWIRE_HTTP_HOST, default 127.0.0.1).")
    var hostFlag: String?

    @Option(name: .customLong("port"), help: "Port to listen on (env TIPWIRE_HTTP_PORT, default 8080).")
    var portFlag: Int?

    var host: String { hostFlag ?? Environment.value("TIPWIRE_HTTP_HOST") ?? "127.0.0.1" }
    var port: Int { portFlag ?? Environment.value("TIPWIRE_HTTP_PORT").flatMap(Int.init) ?? 8080 }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the API and pipeline against an existing PostgreSQL and Kafka (production).",
        discussion: "Needs TIPWIRE_DATABASE_URL and TIPWIRE_KAFKA_BROKERS. Stops gracefully on SIGTERM or SIGINT.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var server: ServerOptions
    @OptionGroup var logging: LoggingOptions

    @Option(name: .customLong("kafka-brokers"), help: "Kafka bootstrap servers (env TIPWIRE_KAFKA_BROKERS).")
    var kafkaBrokersFlag: String?

    func run() async throws {
        try logging.bootstrap()
        guard let brokers = kafkaBrokersFlag ?? Environment.value("TIPWIRE_KAFKA_BROKERS") else {
            throw ValidationError("no Kafka: pass --kafka-brokers or set TIPWIRE_KAFKA_BROKERS (or use `tipwire dev` for an embedded broker)")
        }
        try await runStack(database: database, server: server, kafkaBrokers: brokers, embedded: nil, migrations: nil, runtimeFile: nil)
    }
}

struct Dev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run everything in one process for development: API, pipeline and an embedded Kafka broker.",
        discussion: """
            Migrates the database first. Without --kafka-brokers/TIPWIRE_KAFKA_BROKERS it starts the embedded
            broker (librdkafka's mock cluster: real Kafka protocol, in memory). deploy/local/up runs this.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var server: ServerOptions
    @OptionGroup var logging: LoggingOptions

    @Option(name: .customLong("kafka-brokers"), help: "Use this Kafka instead of the embedded broker (env TIPWIRE_KAFKA_BROKERS).")
    var kafkaBrokersFlag: String?

    @Option(help: "Brokers in the embedded cluster.")
    var embeddedBrokers: Int = 1

    @Option(help: "Directory of migration files (env TIPWIRE_MIGRATIONS_DIR, default ./schemas/sql).")
    var migrations: String?

    @Option(help: "Write TIPWIRE_URL and TIPWIRE_KAFKA_BROKERS to this file once serving.")
    var runtimeFile: String?

    func run() async throws {
        try logging.bootstrap()
        let logger = Logger(label: "tipwire.dev")
        var embedded: EmbeddedBroker?
        let brokers: String
        if let external = kafkaBrokersFlag ?? Environment.value("TIPWIRE_KAFKA_BROKERS") {
            brokers = external
        } else {
            let broker = try EmbeddedBroker(brokers: embeddedBrokers, logger: Logger(label: "tipwire.kafka.embedded"))
            logger.info("embedded Kafka broker started", metadata: ["bootstrap": "\(broker.bootstrapServers)"])
            embedded = broker
            brokers = broker.bootstrapServers
        }
        try await runStack(
            database: database, server: server, kafkaBrokers: brokers, embedded: embedded,
            migrations: migrationsDirectory(migrations), runtimeFile: runtimeFile)
    }
}

/// Wires the services and runs them until SIGTERM/SIGINT.
func runStack(
    database: DatabaseOptions, server: ServerOptions, kafkaBrokers: String, embedded: EmbeddedBroker?, migrations: URL?,
    runtimeFile: String?
) async throws {
    let logger = Logger(label: "tipwire")
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

    let db = TipwireDatabase(url: try database.databaseURL(), poolSize: database.poolSize, logger: Logger(label: "tipwire.db"))
    if let migrations {
        let report = try await db.migrate(directory: migrations)
        logger.info("database migrated", metadata: ["applied": "\(report.applied.count)", "already_applied": "\(report.alreadyApplied.count)"])
    }
    let kafka = try KafkaHealth(bootstrapServers: kafkaBrokers)
    let checks = [
        HealthCheck(name: "database") { try await db.ping() },
        HealthCheck(name: "kafka", detail: kafkaBrokers) { try await kafka.check() },
    ]
    let url = "http://\(server.host):\(server.port)"
    let app = buildApplication(host: server.host, port: server.port, checks: checks, registry: registry, version: Tipwire.version, logger: logger)

    var services: [any Service] = []
    if let embedded { services.append(EmbeddedBrokerService(broker: embedded, logger: logger)) }
    services.append(DatabasePoolService(client: db.client))
    services.append(app)
    if let runtimeFile {
        let text = "TIPWIRE_URL=\(url)\nTIPWIRE_KAFKA_BROKERS=\(kafkaBrokers)\n"
        try text.write(toFile: runtimeFile, atomically: true, encoding: .utf8)
    }
    logger.info("tipwire serving", metadata: ["url": "\(url)", "kafka": "\(kafkaBrokers)"])
    // Services stop in reverse order: HTTP first, the broker last.
    let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    try await group.run()
    logger.info("tipwire stopped")
}
