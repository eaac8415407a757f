import Kafka
import Logging
import Postgres
import ServiceLifecycle

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

/// Closes the database pool on graceful shutdown.
struct DatabasePoolService: Service {
    let client: PostgresClient

    func run() async throws {
        try? await gracefulShutdown()
        client.close()
    }
}
