import ArgumentParser
import Foundation
import Hummingbird
import Kafka
import Logging
import Postgres
import ServiceLifecycle
import TipwireAPI
import TipwireCommandLine
import TipwireCore
import TipwirePipeline
import TipwireStore
import UnixSignals

/// Options for the HTTP server.
struct ServerOptions: ParsableArguments {
    @Option(name: .customLong("host"), help: "Address to listen on (env TIPWIRE_HTTP_HOST, default 127.0.0.1).")
    var hostFlag: String?

    @Option(name: .customLong("port"), help: "Port to listen on (env TIPWIRE_HTTP_PORT, default 8080).")
    var portFlag: Int?

    @Option(name: .customLong("public-url"), help: "Where clients reach the API (env TIPWIRE_PUBLIC_URL, default http://HOST:PORT).")
    var publicURLFlag: String?

    @Option(name: .customLong("max-document-bytes"), help: "Largest document upload (env TIPWIRE_MAX_DOCUMENT_BYTES, default 26214400 = 25 MiB).")
    var maxDocumentBytesFlag: Int?

    @Option(name: .customLong("rate-limit"), help: "Requests a second per token, on average (env TIPWIRE_RATE_LIMIT, default 50; 0: no limit).")
    var rateLimitFlag: Double?

    @Option(name: .customLong("rate-burst"), help: "Requests a token may make at once (env TIPWIRE_RATE_BURST, default 200).")
    var rateBurstFlag: Double?

    @Option(
        name: .customLong("shed-after-ms"),
        help: ArgumentHelp(
            "Milliseconds a request may wait in all for its turn and to start its database work before it answers 503 with Retry-After (env TIPWIRE_SHED_AFTER_MS, default 500; 0: no load shedding).",
            discussion:
                "Load shedding: an overloaded API answers at once instead of queueing; tipwire_http_requests_shed_total counts the shed requests."))
    var shedAfterFlag: Int?

    @Option(
        name: .customLong("max-in-flight"), help: "Requests worked on at once; more wait for their turn (env TIPWIRE_MAX_IN_FLIGHT, default 32).")
    var maxInFlightFlag: Int?

    var host: String { hostFlag ?? Environment.value("TIPWIRE_HTTP_HOST") ?? "127.0.0.1" }

    func validate() throws {
        try checkRange(port, 1...65_535, "--port (or TIPWIRE_HTTP_PORT)")
        try checkRange(maxDocumentBytes, 1...(1 << 31), "--max-document-bytes (or TIPWIRE_MAX_DOCUMENT_BYTES)")
        try checkRange(rate, 0...1_000_000, "--rate-limit (or TIPWIRE_RATE_LIMIT)")
        try checkRange(burst, 1...1_000_000, "--rate-burst (or TIPWIRE_RATE_BURST)")
        try checkRange(shedAfter, 0...60_000, "--shed-after-ms (or TIPWIRE_SHED_AFTER_MS)")
        try checkRange(maxInFlight, 1...100_000, "--max-in-flight (or TIPWIRE_MAX_IN_FLIGHT)")
    }

    var shedAfter: Int {
        get throws { try shedAfterFlag ?? Environment.number("TIPWIRE_SHED_AFTER_MS") ?? Int(LoadShedding.default.bound / .milliseconds(1)) }
    }
    var maxInFlight: Int {
        get throws { try maxInFlightFlag ?? Environment.number("TIPWIRE_MAX_IN_FLIGHT") ?? LoadShedding.default.maxInFlight }
    }
    /// Load shedding, nil when turned off.
    var loadShedding: LoadShedding? {
        get throws { try shedAfter > 0 ? LoadShedding(bound: .milliseconds(shedAfter), maxInFlight: maxInFlight) : nil }
    }

    var rate: Double {
        get throws { try rateLimitFlag ?? Environment.number("TIPWIRE_RATE_LIMIT") ?? RateLimit.default.perSecond }
    }
    var burst: Double {
        get throws { try rateBurstFlag ?? Environment.number("TIPWIRE_RATE_BURST") ?? RateLimit.default.burst }
    }

    /// The per-token rate limit, nil when turned off.
    var rateLimit: RateLimit? {
        get throws { try rate > 0 ? RateLimit(perSecond: rate, burst: burst) : nil }
    }
    var port: Int {
        get throws { try portFlag ?? Environment.number("TIPWIRE_HTTP_PORT") ?? 8080 }
    }
    var links: DocumentLinks {
        get throws { DocumentLinks(publicURL: try publicURLFlag ?? Environment.value("TIPWIRE_PUBLIC_URL") ?? "http://\(host):\(port)") }
    }
    var maxDocumentBytes: Int {
        get throws { try maxDocumentBytesFlag ?? Environment.number("TIPWIRE_MAX_DOCUMENT_BYTES") ?? APIDependencies.defaultMaxDocumentSize }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the API and pipeline against an existing PostgreSQL and Kafka (production).",
        discussion: """
            Needs TIPWIRE_DATABASE_URL and TIPWIRE_KAFKA_BROKERS; Kafka credentials (SASL/SCRAM, TLS) come from
            --kafka-config, TIPWIRE_KAFKA_SETTINGS or --kafka-setting and are checked before anything starts.
            Stops gracefully on SIGTERM or SIGINT.

            In production run the API alone (--no-relay --no-responses --no-deadlines), several behind a
            proxy, and the pipeline as `tipwire relay`, `tipwire responses` and `tipwire deadlines`, each with
            a standby. An API alone needs no Kafka and its /healthz does not check Kafka: findings wait in the
            outbox while Kafka is away. See docs/operations.md.
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var server: ServerOptions
    @OptionGroup var pipeline: PipelineOptions
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        try logging.bootstrap()
        // An instance without the relay and the response consumer needs no Kafka and does not check it:
        // findings wait in the outbox while Kafka is away, so such an API stays healthy.
        let endpoint = pipeline.run.needsKafka ? try kafka.endpoint() : nil
        try await runStack(
            database: database, server: server, pipeline: pipeline, kafka: endpoint, embedded: nil, migrations: nil, runtimeFile: nil)
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
    @OptionGroup var pipeline: PipelineOptions
    @OptionGroup var logging: LoggingOptions

    @OptionGroup var kafka: KafkaOptions

    @Option(help: "Brokers in the embedded cluster.")
    var embeddedBrokers: Int = 1

    func validate() throws {
        try checkRange(embeddedBrokers, 1...16, "--embedded-brokers")
    }

    @Option(help: "Directory of migration files (env TIPWIRE_MIGRATIONS_DIR, default ./schemas/sql).")
    var migrations: String?

    @Option(
        name: .customLong("migrate-database-url"),
        help: """
            Run migrations as this URL's role, the schema owner, and grant the --database-url role only what the \
            service needs (env TIPWIRE_MIGRATE_DATABASE_URL; default: migrate as the --database-url role).
            """)
    var migrateDatabaseURLFlag: String?

    @Option(help: "Write TIPWIRE_URL and TIPWIRE_KAFKA_BROKERS to this file once serving.")
    var runtimeFile: String?

    func run() async throws {
        try logging.bootstrap()
        let logger = Logger(label: "tipwire.dev")
        var embedded: EmbeddedBroker?
        let endpoint: KafkaEndpoint
        if kafka.brokers != nil {
            endpoint = try kafka.endpoint()
        } else {
            let broker = try EmbeddedBroker(brokers: embeddedBrokers, logger: Logger(label: "tipwire.kafka.embedded"))
            logger.info("embedded Kafka broker started", metadata: ["bootstrap": "\(broker.bootstrapServers)"])
            embedded = broker
            endpoint = try kafka.endpoint(brokers: broker.bootstrapServers)
        }
        try await runStack(
            database: database, server: server, pipeline: pipeline, kafka: endpoint, embedded: embedded,
            migrations: Migrations(
                directory: migrationsDirectory(migrations), ownerURL: migrateDatabaseURLFlag ?? Environment.value("TIPWIRE_MIGRATE_DATABASE_URL")),
            runtimeFile: runtimeFile)
    }
}

/// The migrations `dev` applies at start, and as whom.
struct Migrations {
    var directory: URL
    /// The owner's URL; nil when the service's own role migrates (and so owns everything).
    var ownerURL: String?

    /// Applies them to the schema `service` uses. With an owner URL, the owner migrates and grants the
    /// service's role its privileges (migration 0011).
    func apply(to service: TipwireDatabase, logger: Logger) async throws {
        guard let ownerURL else {
            let report = try await service.migrate(directory: directory)
            logger.info("database migrated", metadata: ["applied": "\(report.applied.count)", "already_applied": "\(report.alreadyApplied.count)"])
            return
        }
        let owner = TipwireDatabase(url: ownerURL, poolSize: 1, logger: logger)
        defer { owner.close() }
        let report = try await owner.migrate(directory: directory)
        let role = try await service.role()
        try await owner.grantService(role: role)
        let ownerRole = try await owner.role()
        logger.info(
            "database migrated",
            metadata: [
                "applied": "\(report.applied.count)", "already_applied": "\(report.alreadyApplied.count)", "owner": "\(ownerRole)",
                "service_role": "\(role)",
            ])
    }
}

/// Wires the services and runs them until SIGTERM/SIGINT.
func runStack(
    database: DatabaseOptions, server: ServerOptions, pipeline: PipelineOptions, kafka: KafkaEndpoint?, embedded: EmbeddedBroker?,
    migrations: Migrations?,
    runtimeFile: String?
) async throws {
    let logger = Logger(label: "tipwire")
    let registry = bootstrapMetrics()

    let db = try database.database()
    try await migrations?.apply(to: db, logger: logger)
    if try await db.ownsAuditLog() {
        logger.warning(
            "the service connects as the schema owner, so only triggers keep the audit log append-only; connect as a role granted by `tipwire migrate --service-role` (README, Database roles)"
        )
    }
    let checks = try healthChecks(database: db, kafka: kafka)
    let port = try server.port
    let url = "http://\(server.host):\(port)"
    let stores = TipwireStores(database: db, links: try server.links)
    let dependencies = APIDependencies(
        stores: stores, maxDocumentSize: try server.maxDocumentBytes, rateLimit: try server.rateLimit, loadShedding: try server.loadShedding)
    let app = buildApplication(
        host: server.host, port: port, dependencies: dependencies, checks: checks, registry: registry, version: TipwireVersion.current,
        logger: logger)

    var services: [any Service] = []
    if let embedded { services.append(EmbeddedBrokerService(broker: embedded, logger: logger)) }
    services.append(db)
    if let kafka {
        let parts = PipelineKafka(endpoint: kafka, embedded: embedded, topics: pipeline.topics)
        if pipeline.run.relay { services.append(try parts.relay(pipeline.relay, stores: stores)) }
        if pipeline.run.responses { services.append(try parts.responseConsumer(pipeline.responses, stores: stores)) }
    }
    if pipeline.run.deadlines { services.append(pipeline.deadlines.engine(stores: stores)) }
    services.append(app)
    if let runtimeFile {
        let text = "TIPWIRE_URL=\(url)\n" + (kafka.map { "TIPWIRE_KAFKA_BROKERS=\($0.brokers)\n" } ?? "")
        try text.write(toFile: runtimeFile, atomically: true, encoding: .utf8)
    }
    logger.info("tipwire serving", metadata: ["url": "\(url)", "kafka": "\(kafka?.brokers ?? "not used")"])
    // Services stop in reverse order: HTTP first, the broker last.
    let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    try await group.run()
    logger.info("tipwire stopped")
}
