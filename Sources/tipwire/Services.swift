import Kafka
import Logging
import ServiceLifecycle
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

/// Runs one long-lived part of tipwire on its own (`tipwire relay`, `tipwire responses`, `tipwire deadlines`)
/// with the database pool it uses, until SIGTERM or SIGINT. The pool is listed first, so it closes last.
func runAlone(_ service: some Service, stores: TipwireStores) async throws {
    let group = ServiceGroup(
        services: [stores.database, service], gracefulShutdownSignals: [.sigterm, .sigint], logger: Logger(label: "tipwire"))
    try await group.run()
}
