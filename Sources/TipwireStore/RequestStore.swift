import Foundation
import Postgres
import TipwireCore

public enum RequestOutcome: Sendable {
    case answered(InfoRequestView)
    /// No such request, or not one the actor may answer or see.
    case notFound
    /// The request is no longer open, or its task left `info_requested`.
    case conflict(String)
    case rejected(ValidationFailure)
}

/// Filters for `GET /v1/requests`.
public struct RequestFilter: Sendable {
    public var state: String?
    public var direction: RequestDirection?
    public var after: PageCursor?
    public var limit: Int

    public init(state: String? = nil, direction: RequestDirection? = nil, after: PageCursor? = nil, limit: Int = 20) {
        self.state = state
        self.direction = direction
        self.after = after
        self.limit = limit
    }
}

/// Information requests both ways: agencies asking newsrooms (through the task lifecycle's
/// request-info and answer-info) and newsrooms asking agencies about their progress.
public struct RequestStore: Sendable {
    let client: PostgresClient
    let tasks: TaskStore

    public init(client: PostgresClient, tasks: TaskStore) {
        self.client = client
        self.tasks = tasks
    }

    static let columns = """
        r.id, r.task_id, r.finding_id, f.title, r.newsroom_code, r.agency_code, r.direction, r.questions, r.documents_wanted::text, r.state,
        r.due_at, r.answer, r.answer_document_ids, r.created_at, r.answered_at
        """

    /// Writes a new request and the event that delivers it: to the newsroom's topic for an agency's
    /// request, to the agency's task topic for a newsroom's question.
    static func create(
        task: UUID, finding: UUID, newsroom: PartyCode, agency: PartyCode, direction: RequestDirection, questions: String, documentsWanted: [String],
        askedBy: String, now: Date, category: String, rules: DeadlineRules, on connection: PostgresConnection
    ) async throws -> InfoRequestView {
        let id = UUID.timeOrdered()
        let due = rules.policy(direction == .toNewsroom ? .newsroomAnswer : .agencyAnswer, category: category).due(
            from: now, calendar: rules.calendar)
        let wanted = String(decoding: try TipwireJSON.encode(documentsWanted), as: UTF8.self)
        _ = try await connection.execute(
            """
            INSERT INTO info_requests (id, task_id, finding_id, newsroom_code, agency_code, direction, questions, documents_wanted, due_at, asked_by, created_at)
            VALUES (\(id), \(task), \(finding), \(newsroom.rawValue), \(agency.rawValue), \(direction.rawValue), \(questions), \(wanted)::jsonb, \(due),
                    \(askedBy), \(now))
            """)
        try await DeadlineStore.startRequestClock(
            task: task, finding: finding, request: id, direction: direction, newsroom: newsroom, agency: agency, category: category, at: now,
            rules: rules, on: connection)
        guard let view = try await load(where: "r.id = \(id)", links: .idsOnly, on: connection).first else {
            throw CorruptRow(description: "request \(id) vanished after insert")
        }
        try await announce(
            EventType.requestCreated, view, to: direction == .toNewsroom ? TopicName.requests(newsroom) : TopicName.tasks(agency), at: now,
            on: connection)
        return view
    }

    /// Tells `topic` of a request's change, in the caller's transaction: the event carries the request as it stands.
    static func announce(_ type: String, _ view: InfoRequestView, to topic: String, at now: Date, on connection: PostgresConnection) async throws {
        _ = try await connection.pipeline(
            Inserts.outbox([
                OutboundEvent(
                    type: type, subject: "requests/\(view.id)", time: now, topic: topic, key: view.findingID, data: try TipwireJSON.encode(view))
            ]))
    }

    /// A newsroom asks the agencies holding open tasks on its finding (or one of them) about their progress.
    public func ask(
        finding: UUID, agency: PartyCode?, questions: String, by newsroom: PartyCode, actorName: String, idempotency: Idempotency<RequestAskOutcome>
    ) async throws -> Idempotent<RequestAskOutcome> {
        try await client.withTransaction(idempotency) { connection in
            let owner = try await connection.query(
                "SELECT category_code FROM findings WHERE id = \(finding) AND newsroom_code = \(newsroom.rawValue)")
            guard let row = owner.firstRow else { return .notFound }
            let category = try row.decode(column: 0, as: String.self)
            let rules = try await DeadlineRules.load(on: connection)
            let open = try await connection.query(
                """
                SELECT id, agency_code FROM tasks
                WHERE finding_id = \(finding) AND state NOT IN ('resolved', 'declined', 'transferred', 'closed')
                  AND (\(agency?.rawValue)::text IS NULL OR agency_code = \(agency?.rawValue))
                ORDER BY assigned_at, id
                """
            ).decode((UUID, String).self)
            if open.isEmpty {
                return .rejected(
                    ValidationFailure(
                        agency == nil ? "finding" : "agency", agency == nil ? "has no open task to ask about" : "holds no open task on this finding"))
            }
            let now = Date()
            var created: [InfoRequestView] = []
            for (task, holder) in open {
                created.append(
                    try await Self.create(
                        task: task, finding: finding, newsroom: newsroom, agency: try code(holder), direction: .toAgency, questions: questions,
                        documentsWanted: [], askedBy: actorName, now: now, category: category, rules: rules, on: connection))
            }
            return .asked(created)
        }
    }

    /// Answers (or declines) a request: the newsroom answers an agency's request, which moves its task
    /// back to in_progress; an agency answers a newsroom's question.
    /// `at` is when: now, but for `tipwire demo history`, which writes a past.
    public func answer(
        _ id: UUID, answer: String, documentIDs: [UUID], declined: Bool, by actor: TaskActor, actorName: String, at time: Date = Date()
    ) async throws -> RequestOutcome {
        try await client.withTransaction { connection in
            try await self.answer(
                id, answer: answer, documentIDs: documentIDs, declined: declined, by: actor, actorName: actorName, at: time, on: connection)
        }
    }

    /// `answer` for a request that may carry an `Idempotency-Key`: a retry gets the stored answer.
    public func answer(
        _ id: UUID, answer: String, documentIDs: [UUID], declined: Bool, by actor: TaskActor, actorName: String,
        idempotency: Idempotency<RequestOutcome>
    ) async throws -> Idempotent<RequestOutcome> {
        try await client.withTransaction(idempotency) { connection in
            try await self.answer(
                id, answer: answer, documentIDs: documentIDs, declined: declined, by: actor, actorName: actorName, on: connection)
        }
    }

    /// An agency's answer to a newsroom's question, sent over Kafka (`vn.tipwire.response.answer.v1`):
    /// applied with its ce_id record in one transaction; a repeated ce_id does nothing.
    public func answer(_ response: AgencyAnswer) async throws -> ResponseOutcome {
        do {
            return try await client.withTransaction { connection in
                let seen = try await connection.query(
                    "SELECT 1 FROM applied_responses WHERE agency_code = \(response.agency.rawValue) AND ce_id = \(response.ceID)")
                if !seen.isEmpty { return .duplicate }
                let outcome = try await self.answer(
                    response.requestID, answer: response.answer, documentIDs: [], declined: false, by: .agency(response.agency),
                    actorName: "agency:\(response.agency)", on: connection)
                switch outcome {
                case .answered(let view):
                    guard let task = UUID(uuidString: view.taskID) else {
                        throw CorruptRow(description: "request \(view.id) has task \(view.taskID)")
                    }
                    try await connection.execute(
                        """
                        INSERT INTO applied_responses (agency_code, ce_id, ce_type, task_id, kafka_topic, kafka_partition, kafka_offset)
                        VALUES (\(response.agency.rawValue), \(response.ceID), \(ResponseTypes.answer), \(task), \(response.topic),
                                \(Int(response.partition)), \(response.offset))
                        """)
                    return .applied
                case .notFound: return .unknownRequest
                case .conflict(let detail): return .conflict(detail)
                case .rejected(let failure): return .rejected(.invalid(failure))
                }
            }
        } catch let error as PostgresError where error.violates(Constraint.appliedResponse) {
            return .duplicate
        } catch let error as PostgresError where !error.isTransient {
            return .refused(error.message)
        }
    }

    func answer(
        _ id: UUID, answer: String, documentIDs: [UUID], declined: Bool, by actor: TaskActor, actorName: String, at now: Date = Date(),
        on connection: PostgresConnection
    ) async throws -> RequestOutcome {
        // Scope first: only a request the actor may answer is locked (a newsroom's to it, an agency's question to it).
        let scope = Self.scope(actor)
        let rows = try await connection.query(
            """
            SELECT task_id, finding_id, newsroom_code, agency_code, direction, state FROM info_requests
            WHERE id = \(id) AND (\(scope.newsroom)::text IS NULL OR newsroom_code = \(scope.newsroom))
              AND (\(scope.agency)::text IS NULL OR agency_code = \(scope.agency))
            FOR UPDATE
            """)
        guard let row = rows.firstRow else { return .notFound }
        let (task, finding, newsroomText, agencyText, directionText, state) = try row.decode((UUID, UUID, String, String, String, String).self)
        let direction = RequestDirection(rawValue: directionText) ?? .toNewsroom
        let newsroom = try code(newsroomText)
        let agency = try code(agencyText)
        switch (direction, actor) {
        case (.toNewsroom, .newsroom(let caller)) where caller == newsroom: break
        case (.toAgency, .agency(let caller)) where caller == agency: break
        default: return .notFound
        }
        guard state == "open" else { return .conflict("the request is already \(state)") }
        if direction == .toAgency, !documentIDs.isEmpty {
            return .rejected(ValidationFailure("document_ids", "agencies answer in text; documents are uploaded by newsrooms"))
        }
        let owned = Set(
            try await connection.query("SELECT id FROM documents WHERE id = ANY(\(documentIDs)::uuid[]) AND newsroom_code = \(newsroom.rawValue)")
                .decodeColumn(UUID.self))
        let foreign = documentIDs.enumerated().filter { !owned.contains($0.element) }
        if !foreign.isEmpty {
            return .rejected(
                ValidationFailure(
                    foreign.map { FieldError("document_ids[\($0.offset)]", "no document \($0.element.lowercased) was uploaded by your newsroom") }))
        }
        if direction == .toNewsroom {
            let outcome = try await tasks.perform(
                .answerInfo(answer: answer), on: task, by: actor, actorName: actorName, eventKind: declined ? "info_declined" : nil, at: now,
                connection: connection)
            switch outcome {
            case .success: break
            case .failure(.rejected(.invalid(let failure))): return .rejected(failure)
            case .failure(.rejected(let rejection)): return .conflict(rejection.description)
            case .failure(.conflict(let detail)): return .conflict(detail)
            case .failure(.notFound): return .notFound
            }
        }
        _ = try await connection.pipeline([
            """
            UPDATE info_requests SET state = \(declined ? "declined" : "answered"), answer = \(answer), answer_document_ids = \(documentIDs)::uuid[],
                                     answered_by = \(actorName), answered_at = \(now)
            WHERE id = \(id)
            """,
            // Documents given in answer join the finding for the asking task only (need-to-know).
            """
            INSERT INTO finding_documents (finding_id, document_id, position, given_to_task)
            SELECT \(finding), d.id, (SELECT coalesce(max(position) + 1, 0) FROM finding_documents WHERE finding_id = \(finding)) + d.n - 1, \(task)
            FROM unnest(\(documentIDs)::uuid[]) WITH ORDINALITY AS d(id, n)
            ON CONFLICT DO NOTHING
            """,
            DeadlineStore.meetRequestClock(id, at: now),
        ])
        guard let view = try await Self.load(where: "r.id = \(id)", links: tasks.findings.links, on: connection).first else { return .notFound }
        try await Self.announce(
            EventType.requestAnswered, view, to: direction == .toNewsroom ? TopicName.tasks(agency) : TopicName.requests(newsroom), at: now,
            on: connection)
        return .answered(view)
    }

    /// One request, if `actor` may see it.
    public func view(_ id: UUID, for actor: TaskActor) async throws -> InfoRequestView? {
        let scope = Self.scope(actor)
        return try await client.withConnection { connection in
            try await Self.load(
                where: """
                    r.id = \(id) AND (\(scope.newsroom)::text IS NULL OR r.newsroom_code = \(scope.newsroom))
                      AND (\(scope.agency)::text IS NULL OR r.agency_code = \(scope.agency))
                    """, links: tasks.findings.links, on: connection
            ).first
        }
    }

    /// A page of requests, newest first: a newsroom's, an agency's, or all for the coordinator.
    public func list(_ filter: RequestFilter, for actor: TaskActor) async throws -> Page<InfoRequestView> {
        let scope = Self.scope(actor)
        let limit = min(max(filter.limit, 1), 100)
        let views = try await client.withConnection { connection in
            try await Self.load(
                where: """
                    (\(scope.newsroom)::text IS NULL OR r.newsroom_code = \(scope.newsroom))
                      AND (\(scope.agency)::text IS NULL OR r.agency_code = \(scope.agency))
                      AND (\(filter.state)::text IS NULL OR r.state = \(filter.state))
                      AND (\(filter.direction?.rawValue)::text IS NULL OR r.direction = \(filter.direction?.rawValue))
                      AND (\(filter.after?.time)::timestamptz IS NULL OR (r.created_at, r.id) < (\(filter.after?.time), \(filter.after?.id)))
                    ORDER BY r.created_at DESC, r.id DESC LIMIT \(limit + 1)
                    """, links: tasks.findings.links, on: connection)
        }
        return Page(rows: views, limit: limit) { ($0.createdAt, $0.id) }
    }

    /// The newsroom or agency an actor is confined to (both nil for the coordinator), for WHERE clauses.
    static func scope(_ actor: TaskActor) -> (newsroom: String?, agency: String?) {
        switch actor {
        case .newsroom(let newsroom): (newsroom.rawValue, nil)
        case .agency(let agency): (nil, agency.rawValue)
        case .coordinator: (nil, nil)
        }
    }

    static func load(where condition: PostgresQuery, links: DocumentLinks, on connection: PostgresConnection) async throws -> [InfoRequestView] {
        let query = PostgresQuery.prefixing("SELECT \(columns) FROM info_requests r JOIN findings f ON f.id = r.finding_id WHERE", to: condition)
        let rows = try await connection.query(query).decode(
            (UUID, UUID, UUID, String, String, String, String, String, String, String, Date, String?, [UUID], Date, Date?).self)
        // The answers' documents, for all the requests in one query.
        var checks: [UUID: DocumentClaimCheck] = [:]
        for (id, sha256, size, mediaType) in try await connection.query(
            """
            SELECT d.id, encode(d.sha256, 'hex'), b.size, d.media_type FROM documents d JOIN document_blobs b ON b.sha256 = d.sha256
            WHERE d.id = ANY(\(Array(Set(rows.flatMap(\.12))))::uuid[])
            """
        ).decode((UUID, String, Int, String).self) {
            checks[id] = DocumentClaimCheck(id: id, sha256: sha256, size: size, mediaType: mediaType, url: links.url(of: id.lowercased))
        }
        var views: [InfoRequestView] = []
        for (id, task, finding, title, newsroom, agency, direction, questions, wanted, state, due, answer, documentIDs, created, answered) in rows {
            let documents = documentIDs.compactMap { checks[$0] }
            views.append(
                InfoRequestView(
                    id: id, taskID: task, findingID: finding, findingTitle: title, newsroom: try code(newsroom), agency: try code(agency),
                    direction: RequestDirection(rawValue: direction) ?? .toNewsroom, questions: questions,
                    documentsWanted: (try? JSONDecoder().decode([String].self, from: Data(wanted.utf8))) ?? [], state: state, dueAt: due,
                    answer: answer,
                    answerDocuments: documents, createdAt: created, answeredAt: answered))
        }
        return views
    }
}

/// An agency's answer to a newsroom's question, as it arrived over Kafka.
public struct AgencyAnswer: Sendable {
    public var ceID: String
    public var agency: PartyCode
    public var requestID: UUID
    public var answer: String
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(ceID: String, agency: PartyCode, requestID: UUID, answer: String, topic: String, partition: Int32, offset: Int64) {
        self.ceID = ceID
        self.agency = agency
        self.requestID = requestID
        self.answer = answer
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

public enum RequestAskOutcome: Sendable {
    case asked([InfoRequestView])
    case notFound
    case rejected(ValidationFailure)
}
