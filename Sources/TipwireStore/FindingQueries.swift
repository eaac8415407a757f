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
    public var after: PageCursor?
    public var limit: Int

    public init(
        newsroom: PartyCode? = nil, category: String? = nil, jurisdiction: PartyCode? = nil, receivedAfter: Date? = nil,
        receivedBefore: Date? = nil, after: PageCursor? = nil, limit: Int = 20
    ) {
        self.newsroom = newsroom
        self.category = category
        self.jurisdiction = jurisdiction
        self.receivedAfter = receivedAfter
        self.receivedBefore = receivedBefore
        self.after = after
        self.limit = limit
    }
}

public enum ReassignOutcome: Sendable {
    case reassigned(previous: TaskView, task: TaskView)
    case notFound
    /// The task cannot be reassigned in its state, or the agency already holds an open task on the finding.
    case conflict(String)
    case rejected(ValidationFailure)
}

extension FindingStore {
    /// Which findings a principal may see: its newsroom's (liaison), all (coordinator), those it holds a task on (agency).
    private func visibility(_ principal: Principal) -> (newsroom: String?, agency: String?)? {
        switch principal.role {
        case .liaison: principal.newsroom.map { ($0.rawValue, nil) }
        case .coordinator: (nil, nil)
        case .agency: principal.agency.map { (nil, $0.rawValue) }
        case .auditor, .admin: nil
        }
    }

    /// The finding with its documents and tasks, or nil when it does not exist or `principal` may not see it.
    public func view(id: UUID, for principal: Principal) async throws -> FindingView? {
        guard let scope = visibility(principal) else { return nil }
        let views = try await client.withConnection { connection in
            try await self.loadViews(
                where: """
                    f.id = \(id) AND (\(scope.newsroom)::text IS NULL OR f.newsroom_code = \(scope.newsroom))
                      AND (\(scope.agency)::text IS NULL OR EXISTS (SELECT 1 FROM tasks t WHERE t.finding_id = f.id AND t.agency_code = \(scope.agency)))
                    """, on: connection)
        }
        return views.first
    }

    /// A page of findings, newest first.
    public func list(_ filter: FindingFilter, for principal: Principal) async throws -> Page<FindingView> {
        guard let scope = visibility(principal) else { return Page(items: [], nextCursor: nil) }
        let newsroom = scope.newsroom ?? filter.newsroom?.rawValue
        let limit = min(max(filter.limit, 1), 100)
        let views = try await client.withConnection { connection in
            try await self.loadViews(
                where: """
                    (\(newsroom)::text IS NULL OR f.newsroom_code = \(newsroom))
                      AND (\(scope.agency)::text IS NULL OR EXISTS (SELECT 1 FROM tasks t WHERE t.finding_id = f.id AND t.agency_code = \(scope.agency)))
                      AND (\(filter.category)::text IS NULL OR f.category_code = \(filter.category))
                      AND (\(filter.jurisdiction?.rawValue)::text IS NULL OR f.jurisdiction_code = \(filter.jurisdiction?.rawValue))
                      AND (\(filter.receivedAfter)::timestamptz IS NULL OR f.created_at >= \(filter.receivedAfter))
                      AND (\(filter.receivedBefore)::timestamptz IS NULL OR f.created_at < \(filter.receivedBefore))
                      AND (\(filter.after?.time)::timestamptz IS NULL OR (f.created_at, f.id) < (\(filter.after?.time), \(filter.after?.id)))
                    ORDER BY f.created_at DESC, f.id DESC LIMIT \(limit + 1)
                    """, on: connection)
        }
        let items = Array(views.prefix(limit))
        let next = views.count > limit ? items.last.flatMap { view in UUID(uuidString: view.finding.id).map { PageCursor(time: view.finding.receivedAt, id: $0).token } } : nil
        return Page(items: items, nextCursor: next)
    }

    /// Loads findings matching `condition` (which may end in ORDER BY/LIMIT), with documents and tasks.
    func loadViews(where condition: PostgresQuery, on connection: PostgresConnection) async throws -> [FindingView] {
        var query: PostgresQuery = """
            SELECT f.id, f.newsroom_code, f.article_url, f.title, f.published_at, f.summary, f.category_code, f.jurisdiction_code,
                   f.subject_agency_code, f.created_at
            FROM findings f WHERE
            """
        query.sql += " " + condition.sql
        query.parameters = condition.parameters
        query.parameterTypes = condition.parameterTypes
        let findings = try await connection.query(query).map { row -> FindingData in
            let (id, newsroom, url, title, publishedAt, summary, category, jurisdiction, subject, receivedAt) =
                try row.decode((UUID, String, String, String, Date, String, String, String, String?, Date).self)
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
            WHERE fd.finding_id = ANY(\(ids)::uuid[]) ORDER BY fd.finding_id, fd.position
            """,
            """
            SELECT id, finding_id, agency_code, state, routed_by, previous_task_id, assigned_at, deliver_by, delivered_at
            FROM tasks WHERE finding_id = ANY(\(ids)::uuid[]) ORDER BY assigned_at, id
            """,
        ])
        var documents: [String: [DocumentClaimCheck]] = [:]
        for (findingID, id, sha256, size, mediaType) in try results[0].decode((UUID, UUID, String, Int, String).self) {
            documents[findingID.lowercased, default: []].append(
                DocumentClaimCheck(id: id, sha256: sha256, size: size, mediaType: mediaType, url: documentURL(id.lowercased)))
        }
        var tasks: [String: [TaskView]] = [:]
        for row in results[1] {
            let (id, findingID, agency, state, routedBy, previous, assignedAt, deliverBy, deliveredAt) =
                try row.decode((UUID, UUID, String, String, String, UUID?, Date, Date, Date?).self)
            tasks[findingID.lowercased, default: []].append(
                TaskView(
                    id: id.lowercased, findingID: findingID.lowercased, agency: try code(agency), state: state,
                    routedBy: RoutingReason(rawValue: routedBy) ?? .rule, previousTaskID: previous?.lowercased, assignedAt: assignedAt,
                    deliverBy: deliverBy, deliveredAt: deliveredAt))
        }
        return findings.map { FindingView(finding: $0, documents: documents[$0.id] ?? [], tasks: tasks[$0.id] ?? []) }
    }

    /// Moves an open task to another agency (coordinator): the task becomes `transferred`, a new one is
    /// assigned, and the new agency receives `task.assigned` through the outbox.
    public func reassign(taskID: UUID, to agency: PartyCode, reason: String, actor: String) async throws -> ReassignOutcome {
        do {
            return try await client.withTransaction { connection in
                let rows = try await connection.query(
                    "SELECT finding_id, agency_code, state FROM tasks WHERE id = \(taskID) FOR UPDATE")
                guard let row = rows.firstRow else { return .notFound }
                let (findingID, current, state) = try row.decode((UUID, String, String).self)
                if TaskView.terminalStates.contains(state) {
                    return .conflict("the task is \(state); only open tasks can be reassigned")
                }
                if current == agency.rawValue {
                    return .rejected(ValidationFailure("agency", "the task is already assigned to \(agency)"))
                }
                let known = try await connection.query("SELECT 1 FROM agencies WHERE code = \(agency.rawValue)")
                if known.isEmpty { return .rejected(ValidationFailure("agency", "is not a known agency code")) }
                guard let finding = try await self.loadViews(where: "f.id = \(findingID)", on: connection).first else { return .notFound }
                let now = Date()
                let task = TaskRow(id: UUID(), findingID: findingID, agency: agency, routedBy: .reassignment, previousTaskID: taskID, assignedAt: now)
                let detail = String(decoding: try TipwireJSON.encode(["to": agency.rawValue, "reason": reason]), as: UTF8.self)
                let assignedDetail = String(decoding: try TipwireJSON.encode(["routed_by": "reassignment", "reason": reason]), as: UTF8.self)
                _ = try await connection.pipeline([
                    "UPDATE tasks SET state = 'transferred', updated_at = \(now) WHERE id = \(taskID)",
                    Inserts.tasks([task]),
                    Inserts.taskEvents([
                        TaskEventRow(taskID: taskID, kind: "reassigned", actor: actor, at: now, detail: detail),
                        TaskEventRow(taskID: task.id, kind: "assigned", actor: actor, at: now, detail: assignedDetail),
                    ]),
                    Inserts.outbox([try .taskAssigned(task, finding: finding.finding, documents: finding.documents)]),
                    Inserts.wakeRelay,
                ])
                var previous = finding.tasks.first { $0.id == taskID.lowercased }
                previous?.state = "transferred"
                return .reassigned(previous: previous ?? task.view, task: task.view)
            }
        } catch let error as PostgresError where error.constraint == "tasks_one_open_per_agency" {
            return .conflict("\(agency) already holds an open task on this finding")
        }
    }
}

struct CorruptRow: Error, CustomStringConvertible {
    let description: String
}

func code(_ text: String) throws -> PartyCode {
    guard let code = PartyCode(rawValue: text) else { throw CorruptRow(description: "stored code '\(text)' is not a valid code") }
    return code
}
