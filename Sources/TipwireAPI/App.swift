import HTTPTypes
import Hummingbird
import Logging
import Prometheus
import TipwirePages
import TipwireStore

/// What the API needs from the rest of tipwire.
public struct APIDependencies: Sendable {
    public var stores: TipwireStores
    public var maxDocumentSize: Int
    /// Per-token request rate; nil for none (benchmarks measuring capacity).
    public var rateLimit: RateLimit?
    /// The dashboard's and the scorecard's page templates, compiled once.
    public var pages: Pages
    /// How the API sheds load under overload; nil: requests queue as long as the pool allows.
    public var loadShedding: LoadShedding?

    public static let defaultMaxDocumentSize = 25 * 1_048_576

    public init(
        stores: TipwireStores, maxDocumentSize: Int = defaultMaxDocumentSize, rateLimit: RateLimit? = .default,
        loadShedding: LoadShedding? = .default
    ) {
        self.stores = stores
        self.maxDocumentSize = maxDocumentSize
        self.rateLimit = rateLimit
        self.loadShedding = loadShedding
        // The templates are constants compiled into the binary; a test renders every one of them.
        pages = try! Pages()
    }
}

/// The router: health and metrics without a token (health details with one), everything under `/v1`
/// with one, rate-limited per token.
public func buildRouter(
    dependencies: APIDependencies, checks: [HealthCheck], registry: PrometheusCollectorRegistry, version: String
) -> Router<TipwireRequestContext> {
    let router = Router(context: TipwireRequestContext.self)
    router.add(middleware: UnreadBodyMiddleware(bound: max(64 << 20, 2 * dependencies.maxDocumentSize)))
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: LogRequestsMiddleware(.debug))
    router.add(middleware: ProblemMiddleware(routes: RouteTable.tipwire))
    router.add(middleware: LoadSheddingMiddleware(dependencies.loadShedding))
    addHealthRoutes(to: router, stores: dependencies.stores, checks: checks, registry: registry, version: version)
    let tokens = dependencies.stores.tokens
    var v1 = router.group("v1").add(middleware: AuthMiddleware(tokens: tokens))
    if let limit = dependencies.rateLimit { v1 = v1.add(middleware: RateLimitMiddleware(limiter: RateLimiter(limit))) }
    let documents = DocumentsController(
        documents: dependencies.stores.documents, audit: dependencies.stores.audit, maxSize: dependencies.maxDocumentSize)
    documents.addRoutes(to: v1)
    FindingsController(findings: dependencies.stores.findings).addRoutes(to: v1)
    TasksController(tasks: dependencies.stores.tasks).addRoutes(to: v1)
    RequestsController(requests: dependencies.stores.requests).addRoutes(to: v1)
    PoliciesController(policies: dependencies.stores.policies).addRoutes(to: v1)
    DutiesController(duties: dependencies.stores.duties).addRoutes(to: v1)
    AuditController(audit: dependencies.stores.audit).addRoutes(to: v1)
    SourcesController(sources: dependencies.stores.sources).addRoutes(to: v1)
    DisclosuresController(disclosures: dependencies.stores.disclosures).addRoutes(to: v1)
    ProtectionController(protection: dependencies.stores.protection).addRoutes(to: v1)
    PeopleController(people: dependencies.stores.people).addRoutes(to: v1)
    StatsController(stats: dependencies.stores.stats, pages: dependencies.pages).addRoutes(to: v1)
    let stores = dependencies.stores
    let pages = dependencies.pages
    WebRoutes.add(
        to: router,
        handlers: [
            SignInPages(stores: stores, pages: pages).handlers, CoordinatorPages(stores: stores, pages: pages).handlers,
            InboxPages(stores: stores, pages: pages).handlers,
            RequestPages(stores: stores, pages: pages, documents: documents, maxDocumentSize: dependencies.maxDocumentSize).handlers,
            DisclosurePages(stores: stores, pages: pages).handlers, ProtectionPages(stores: stores, pages: pages).handlers, Assets().handlers,
            DeskPages(stores: stores, pages: pages, maxDocumentSize: dependencies.maxDocumentSize).handlers,
        ].reduce(into: [:]) { all, some in all.merge(some) { first, _ in first } },
        sessions: stores.sessions, pages: pages)
    return router
}

/// `/healthz` and `/metrics` (with the figures read from the database); health details for a valid token.
func addHealthRoutes(
    to router: Router<TipwireRequestContext>, stores: TipwireStores, checks: [HealthCheck], registry: PrometheusCollectorRegistry, version: String
) {
    let tokens = stores.tokens
    let databaseMetrics = DatabaseMetrics(stats: stores.stats)
    HealthController<TipwireRequestContext>(checks: checks, registry: registry, version: version, moreMetrics: { await databaseMetrics.text() }) {
        request in
        guard let token = AuthMiddleware.bearerToken(request), case .valid = try? await tokens.authenticate(token) else { return false }
        return true
    }.addRoutes(to: router)
}

/// The HTTP listener of a pipeline process run on its own (`tipwire relay`, `responses`, `deadlines`):
/// `/healthz` and `/metrics` only, for the orchestrator's probes and for Prometheus.
public func buildOperationsApplication(
    host: String, port: Int, stores: TipwireStores, checks: [HealthCheck], registry: PrometheusCollectorRegistry, version: String,
    logger: Logger
) -> some ApplicationProtocol {
    let router = Router(context: TipwireRequestContext.self)
    router.add(middleware: ProblemMiddleware(routes: RouteTable([("/healthz", [.get]), ("/metrics", [.get])])))
    addHealthRoutes(to: router, stores: stores, checks: checks, registry: registry, version: version)
    return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "tipwire"), logger: logger)
}

/// Builds the HTTP application.
public func buildApplication(
    host: String, port: Int, dependencies: APIDependencies, checks: [HealthCheck], registry: PrometheusCollectorRegistry, version: String,
    logger: Logger
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(dependencies: dependencies, checks: checks, registry: registry, version: version),
        configuration: .init(address: .hostname(host, port: port), serverName: "tipwire"),
        logger: logger)
}

/// The paths tipwire serves and their methods, so a known path called with another method
/// answers 405 with `Allow` rather than 404.
struct RouteTable: Sendable {
    let routes: [(segments: [Substring], methods: [HTTPRequest.Method])]

    init(_ routes: [(String, [HTTPRequest.Method])]) {
        self.routes = routes.map { path, methods in (path.split(separator: "/"), methods) }
    }

    static let tipwire = RouteTable(
        WebRoutes.methods + [
            ("/healthz", [.get]),
            ("/metrics", [.get]),
            ("/v1/audit", [.get]),
            ("/v1/disclosure-requests", [.get, .post]),
            ("/v1/disclosure-requests/{id}", [.get]),
            ("/v1/disclosure-requests/{id}/decision", [.post]),
            ("/v1/disclosure-requests/{id}/written-request", [.get]),
            ("/v1/documents", [.post]),
            ("/v1/escalations", [.get]),
            ("/v1/escalations/{id}/acknowledge", [.post]),
            ("/v1/documents/{id}", [.get]),
            ("/v1/findings", [.get, .post]),
            ("/v1/findings/{id}", [.get]),
            ("/v1/findings/{id}/questions", [.post]),
            ("/v1/newsrooms/{code}/source-keys", [.get, .put]),
            ("/v1/overdue", [.get]),
            ("/v1/people", [.get, .post]),
            ("/v1/people/{id}", [.get, .put, .delete]),
            ("/v1/policies", [.get]),
            ("/v1/protection-cases", [.get, .post]),
            ("/v1/protection-cases/{id}", [.get]),
            ("/v1/protection-cases/{id}/acknowledge", [.post]),
            ("/v1/protection-cases/{id}/resolve", [.post]),
            ("/v1/protection-figure", [.get]),
            ("/v1/policies/{stage}", [.put]),
            ("/v1/requests", [.get]),
            ("/v1/requests/{id}", [.get]),
            ("/v1/requests/{id}/answer", [.post]),
            ("/v1/requests/{id}/decline", [.post]),
            ("/v1/scorecards/{year}", [.get]),
            ("/v1/sources/{handle}", [.get]),
            ("/v1/stats/latency", [.get]),
            ("/v1/tasks", [.get]),
            ("/v1/tasks/{id}", [.get]),
            ("/v1/tasks/{id}/{action}", [.post]),
        ])

    /// The methods allowed on `path`, or nil when no route has that shape.
    func methods(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/")
        return routes.first { route in
            route.segments.count == segments.count
                && zip(route.segments, segments).allSatisfy { pattern, segment in pattern.hasPrefix("{") || pattern == segment }
        }?.methods
    }
}
