import Hummingbird
import Logging
import Prometheus

/// Builds the HTTP application. Routes for findings, tasks and the rest join here as they are built.
public func buildApplication(
    host: String, port: Int, checks: [HealthCheck], registry: PrometheusCollectorRegistry, version: String, logger: Logger
) -> some ApplicationProtocol {
    let router = Router()
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: LogRequestsMiddleware(.debug))
    HealthController<BasicRequestContext>(checks: checks, registry: registry, version: version).addRoutes(to: router)
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "tipwire"),
        logger: logger)
}
