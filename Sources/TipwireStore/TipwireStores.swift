import Foundation
import Logging

/// Where clients fetch a document: `<publicURL>/v1/documents/<id>`. Claim-checks in events and views carry it,
/// so the store needs the API's URL layout, and this is the one place that knows it.
public struct DocumentLinks: Sendable, Hashable {
    /// The public URL without a trailing slash; empty for `idsOnly`.
    public let base: String?

    public init(publicURL: String) {
        base = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
    }

    private init(base: String?) { self.base = base }

    /// Links that are the bare document ids (a new information request's event, which holds no documents yet).
    public static let idsOnly = DocumentLinks(base: nil)

    /// The URL of document `id` (lower-case UUID text).
    public func url(of id: String) -> String {
        guard let base else { return id }
        return "\(base)/v1/documents/\(id)"
    }
}

/// Every store over one database, built once and passed down: the server, the pipeline commands, the
/// benchmarks and the tests all wire the same graph the same way.
public struct TipwireStores: Sendable {
    public let database: TipwireDatabase
    public let tokens: TokenStore
    public let documents: DocumentStore
    public let findings: FindingStore
    public let tasks: TaskStore
    public let requests: RequestStore
    public let policies: PolicyStore
    public let duties: DutyStore
    public let calendar: CalendarStore
    public let outbox: OutboxStore
    public let audit: AuditStore
    public let sources: SourceStore
    public let disclosures: DisclosureStore
    public let protection: ProtectionStore
    public let stats: StatsStore
    public let sessions: SessionStore
    public let people: PeopleStore

    /// `statsFoldFirst`: reports fold the stale days into the rollups before reading them (read your own
    /// writes: the command line, and tests, which run no deadline engine).
    public init(
        database: TipwireDatabase, links: DocumentLinks, findingsLogger: Logger = Logger(label: "tipwire.findings"), statsFoldFirst: Bool = false
    ) {
        let client = database.client
        self.database = database
        tokens = TokenStore(client: client)
        documents = DocumentStore(client: client)
        findings = FindingStore(client: client, links: links, logger: findingsLogger)
        tasks = TaskStore(client: client, findings: findings)
        requests = RequestStore(client: client, tasks: tasks)
        policies = PolicyStore(client: client)
        duties = DutyStore(client: client)
        calendar = CalendarStore(client: client)
        outbox = OutboxStore(client: client)
        audit = AuditStore(client: client)
        sources = SourceStore(client: client)
        disclosures = DisclosureStore(client: client)
        protection = ProtectionStore(client: client)
        stats = StatsStore(client: client, foldsFirst: statsFoldFirst)
        sessions = SessionStore(client: client)
        people = PeopleStore(client: client)
    }
}
