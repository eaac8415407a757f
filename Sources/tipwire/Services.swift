import ArgumentParser
import Kafka
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import TipwireAPI
import TipwireCommandLine
import TipwirePipeline
import TipwireStore
import UnixSignals

/// Keeps the embedded Kafka cluster up until graceful shutdown.
struct EmbeddedBrokerService: Service {
    let broker: EmbeddedBroker
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("stopping embedded Kafka broker")
        broker.shutdown()
    }
}

/// Where a pipeline process run on its own serves `/healthz` and `/metrics`.
struct OperationsListenerOptions: ParsableArguments {
    @Option(
        name: .customLong("metrics-host"),
        help: "Address of the /healthz and /metrics listener (env TIPWIRE_METRICS_HOST, default 127.0.0.1; 0.0.0.0 in a container).")
    var hostFlag: String?

    @Option(
        name: .customLong("metrics-port"),
        help: ArgumentHelp(
            "Serve /healthz and /metrics on this port (env TIPWIRE_METRICS_PORT; default: no listener).",
            discussion: "docs/operations.md lists the metrics and deploy/prometheus/alerts.yml the alerts on them."))
    var portFlag: Int?

    var host: String { hostFlag ?? Environment.value("TIPWIRE_METRICS_HOST") ?? "127.0.0.1" }
    var port: Int? {
        get throws { try portFlag ?? Environment.number("TIPWIRE_METRICS_PORT") }
    }

    func validate() throws {
        if let port = try port { try checkRange(port, 1...65_535, "--metrics-port (or TIPWIRE_METRICS_PORT)") }
    }
}

/// Sends every metric to a Prometheus registry; call once, before any metric is made.
func bootstrapMetrics() -> PrometheusCollectorRegistry {
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    return registry
}

/// What `/healthz` checks: the database, and Kafka when the process talks to it.
func healthChecks(database: TipwireDatabase, kafka: KafkaEndpoint?) throws -> [HealthCheck] {
    var checks = [HealthCheck(name: "database") { try await database.ping() }]
    if let kafka {
        let kafkaHealth = try KafkaHealth(bootstrapServers: kafka.brokers, settings: kafka.settings)
        checks.append(HealthCheck(name: "kafka", detail: kafka.brokers) { try await kafkaHealth.check() })
    }
    return checks
}

/// Runs one long-lived part of tipwire on its own (`tipwire relay`, `tipwire responses`, `tipwire deadlines`)
/// with the database pool it uses, and its `/healthz` and `/metrics` listener if asked for one, until
/// SIGTERM or SIGINT. The pool is listed first, so it closes last.
func runAlone(
    _ service: some Service, stores: TipwireStores, kafka: KafkaEndpoint?, listener: OperationsListenerOptions,
    registry: PrometheusCollectorRegistry
) async throws {
    let logger = Logger(label: "tipwire")
    var services: [any Service] = [stores.database, service]
    if let port = try listener.port {
        services.append(
            buildOperationsApplication(
                host: listener.host, port: port, stores: stores, checks: try healthChecks(database: stores.database, kafka: kafka),
                registry: registry, version: TipwireVersion.current, logger: logger))
        logger.info("serving /healthz and /metrics", metadata: ["url": "http://\(listener.host):\(port)"])
    }
    let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    try await group.run()
}
