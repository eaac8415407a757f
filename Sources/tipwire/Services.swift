import Kafka
import Logging
import Postgres
import ServiceLifecycle
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

/// Runs one long-lived part of tipwire on its own (`tipwire relay`, `tipwire responses`) with the
/// database pool it uses, until SIGTERM or SIGINT.
func runAlone(_ service: some Service, pool client: PostgresClient) async throws {
    let group = ServiceGroup(
        services: [DatabasePoolService(client: client), service], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "tipwire"))
    try await group.run()
}

/// Closes the database pool on graceful shutdown.
struct DatabasePoolService: Service {
    let client: PostgresClient

    func run() async throws {
        try? await gracefulShutdown()
        client.close()
    }
}
