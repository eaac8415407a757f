import Foundation
import Postgres
import TipwireCore

/// Filters for `GET /v1/findings`.
public struct FindingFilter: Sendable {
    public var newsroom: PartyCode?
    public var category: String?
    public var jurisdiction: PartyCode?
    public var receivedAfter: Date?
    public var receivedBefore: Date?
    /// Only findings accounted for (true: it has tasks, and every one has ended) or not (false).
    public var accountedFor: Bool?
    public var after: PageCursor?
    public var limit: Int

    public init(
        newsroom: PartyCode? = nil, category: String? = nil, jurisdiction: PartyCode? = nil, receivedAfter: Date? = nil,
        receivedBefore: Date? = nil, accountedFor: Bool? = nil, after: PageCursor? = nil, limit: Int = 20
    ) {
        self.accountedFor = accountedFor
        self.newsroom = newsroom
        self.category = category
        self.jurisdiction = jurisdiction
        self.receivedAfter = receivedAfter
        self.receivedBefore = receivedBefore
        self.after = after
        self.limit = limit
    }
}

/// What of which findings a reader may see (need-to-know, docs/adr/0005).
///
/// A newsroom sees its own findings whole; the coordinator sees everything. An agency sees a finding
/// while it holds a task on it that was not transferred or reassigned away, and then only its own tasks
/// and the documents given to it: those submitted with the finding and those a newsroom gave in answer to
/// its own requests. Its own tasks' timelines stay readable through the task itself.
public enum FindingScope: Sendable, Equatable {
    case newsroom(PartyCode)
    case agency(PartyCode)
    case everything

    /// The scope of a principal; nil for roles that read no findings (auditor, admin).
    public init?(_ principal: Principal) {
        switch principal.role {
        case .liaison:
            guard let newsroom = principal.newsroom else { return nil }
            self = .newsroom(newsroom)
        case .agency:
            guard let agency = principal.agency else { return nil }
            self = .agency(agency)
        case .coordinator: self = .everything
        case .auditor, .admin: return nil
        }
    }

    var newsroom: String? { if case .newsroom(let code) = self { code.rawValue } else { nil } }
    var agency: String? { if case .agency(let code) = self { code.rawValue } else { nil } }

    /// The SQL condition on `f` (a finding) for "this reader may see it".
    var findingCondition: PostgresQuery {
        """
        (\(newsroom)::text IS NULL OR f.newsroom_code = \(newsroom))
          AND (\(agency)::text IS NULL OR EXISTS (
                SELECT 1 FROM tasks t WHERE t.finding_id = f.id AND t.agency_code = \(agency) AND t.state <> 'transferred'))
        """
    }
}

extension FindingStore {
    /// The finding with its documents and tasks, or nil when it does not exist or `principal` may not see it.
    public func view(id: UUID, for principal: Principal) async throws -> FindingView? {
        guard let scope = FindingScope(principal) else { return nil }
        let views = try await client.withConnection { connection in
            try await self.loadViews(where: "f.id = \(id) AND \(fragment: scope.findingCondition)", for: scope, on: connection)
        }
        return views.first
    }

    /// A page of findings, newest first.
    public func list(_ filter: FindingFilter, for principal: Principal) async throws -> Page<FindingView> {
        guard let scope = FindingScope(principal) else { return Page(items: [], nextCursor: nil) }
        let newsroom = filter.newsroom?.rawValue
        let limit = min(max(filter.limit, 1), 100)
        let views = try await client.withConnection { connection in
            try await self.loadViews(
                where: """
                    \(fragment: scope.findingCondition)
                      AND (\(newsroom)::text IS NULL OR f.newsroom_code = \(newsroom))
                      AND (\(filter.category)::text IS NULL OR f.category_code = \(filter.category))
                      AND (\(filter.jurisdiction?.rawValue)::text IS NULL OR f.jurisdiction_code = \(filter.jurisdiction?.rawValue))
                      AND (\(filter.receivedAfter)::timestamptz IS NULL OR f.created_at >= \(filter.receivedAfter))
                      AND (\(filter.receivedBefore)::timestamptz IS NULL OR f.created_at < \(filter.receivedBefore))
                      AND (\(filter.accountedFor)::boolean IS NULL OR \(filter.accountedFor) = (
                            EXISTS (SELECT 1 FROM tasks t WHERE t.finding_id = f.id)
                            AND NOT EXISTS (
                                SELECT 1 FROM tasks t WHERE t.finding_id = f.id AND t.state <> ALL(\(Array(TaskView.terminalStates))::text[]))))
                      AND (\(filter.after?.time)::timestamptz IS NULL OR (f.created_at, f.id) < (\(filter.after?.time), \(filter.after?.id)))
                    ORDER BY f.created_at DESC, f.id DESC LIMIT \(limit + 1)
                    """, for: scope, on: connection)
        }
        return Page(rows: views, limit: limit) { ($0.finding.receivedAt, $0.finding.id) }
    }

    /// Loads findings matching `condition` (which may end in ORDER BY/LIMIT), with the documents and
    /// tasks `scope` may see.
    func loadViews(where condition: PostgresQuery, for scope: FindingScope, on connection: PostgresConnection) async throws -> [FindingView] {
        let query = PostgresQuery.prefixing(
            """
            SELECT f.id, f.newsroom_code, f.article_url, f.title, f.published_at, f.summary, f.category_code, f.jurisdiction_code,
                   f.subject_agency_code, f.created_at, f.source_handle
            FROM findings f WHERE
            """, to: condition)
        var handles: [String: String] = [:]
        let findings = try await connection.query(query).map { row -> FindingData in
            let (id, newsroom, url, title, publishedAt, summary, category, jurisdiction, subject, receivedAt, handle) =
                try row.decode((UUID, String, String, String, Date, String, String, String, String?, Date, String?).self)
            handles[id.lowercased] = handle
            return FindingData(
                id: id, newsroom: try code(newsroom), articleURL: url, title: title, publishedAt: publishedAt, summary: summary,
                category: category, jurisdiction: try code(jurisdiction), subjectAgency: try subject.map(code), receivedAt: receivedAt)
        }
        if findings.isEmpty { return [] }
        let ids = findings.compactMap { UUID(uuidString: $0.id) }
        let results = try await connection.pipeline([
            """
            SELECT fd.finding_id, d.id, encode(d.sha256, 'hex'), b.size, d.media_type
            FROM finding_documents fd JOIN documents d ON d.id = fd.document_id JOIN document_blobs b ON b.sha256 = d.sha256
            WHERE fd.finding_id = ANY(\(ids)::uuid[])
              AND (\(scope.agency)::text IS NULL OR fd.given_to_task IS NULL
                   OR fd.given_to_task IN (SELECT id FROM tasks WHERE agency_code = \(scope.agency)))
            ORDER BY fd.finding_id, fd.position
            """,
            """
            SELECT \(unescaped: TaskView.columns) FROM tasks t
            WHERE t.finding_id = ANY(\(ids)::uuid[]) AND (\(scope.agency)::text IS NULL OR t.agency_code = \(scope.agency))
            ORDER BY t.assigned_at, t.id
            """,
        ])
        var documents: [String: [DocumentClaimCheck]] = [:]
        for (findingID, id, sha256, size, mediaType) in try results[0].decode((UUID, UUID, String, Int, String).self) {
            documents[findingID.lowercased, default: []].append(
                DocumentClaimCheck(id: id, sha256: sha256, size: size, mediaType: mediaType, url: links.url(of: id.lowercased)))
        }
        var tasks: [String: [TaskView]] = [:]
        for row in results[1] {
            let task = try TaskView(row: row)
            tasks[task.findingID, default: []].append(task)
        }
        return findings.map {
            FindingView(finding: $0, documents: documents[$0.id] ?? [], tasks: tasks[$0.id] ?? [], sourceHandle: handles[$0.id])
        }
    }
}

extension PostgresQuery {
    /// `head`, plain SQL without parameters, then `condition`, whose parameters keep their numbers.
    static func prefixing(_ head: String, to condition: PostgresQuery) -> PostgresQuery {
        var query = condition
        query.sql = head + " " + condition.sql
        return query
    }
}

struct CorruptRow: Error, CustomStringConvertible {
    let description: String
}

func code(_ text: String) throws -> PartyCode {
    guard let code = PartyCode(rawValue: text) else { throw CorruptRow(description: "stored code '\(text)' is not a valid code") }
    return code
}
