import Foundation
import Logging
import Postgres
import Synchronization
import TipwireCore

/// One `POST /v1/findings`: who sends it, its idempotency key and body hash, and the checked body.
public struct FindingRequest: Sendable {
    public var newsroom: PartyCode
    public var actor: String
    public var idempotencyKey: String
    public var requestSHA256: [UInt8]
    public var submission: FindingSubmission
    /// When the finding was received; nil is now. Only `tipwire demo history` writes a past.
    public var receivedAt: Date?

    public init(
        newsroom: PartyCode, actor: String, idempotencyKey: String, requestSHA256: [UInt8], submission: FindingSubmission, receivedAt: Date? = nil
    ) {
        self.newsroom = newsroom
        self.actor = actor
        self.idempotencyKey = idempotencyKey
        self.requestSHA256 = requestSHA256
        self.submission = submission
        self.receivedAt = receivedAt
    }

    var idempotencyScope: String { "findings:\(newsroom)" }
}

public enum FindingOutcome: Sendable {
    /// Committed now. `body` is the JSON stored for replays.
    case created(FindingView, body: [UInt8])
    /// The key was used before with the same body: the stored answer.
    case replayed(status: Int, body: [UInt8])
    /// Something the database knows is wrong (unknown category, another newsroom's document, …). Nothing written.
    case rejected(ValidationFailure)
    /// The key was used before with a different body. Nothing written.
    case keyReused
}

public enum FindingStoreError: Error, CustomStringConvertible {
    case routing(RoutingError)

    public var description: String {
        switch self {
        case .routing(let error): "cannot route the finding: \(error)"
        }
    }
}

/// Findings: ingest with group commit, reading, listing and reassignment.
///
/// Concurrent submissions are gathered into shared transactions (`SharedBatches`): while
/// the commits in flight run, newly arriving findings queue up and go together in the next
/// one. Each finding's rows (finding, tasks, `assigned` events, outbox rows, idempotency
/// record) are still all-or-nothing: a batch that fails is retried one finding at a time.
///
/// Under overload a finding sheds rather than queues: one still waiting for a commit when its
/// admission bound passes fails with `.admissionTimeout`, nothing written. A finding already in
/// a commit always finishes it.
public final class FindingStore: Sendable {
    let client: PostgresClient
    /// Where a document is fetched, for claim-checks.
    public let links: DocumentLinks
    private let batches: SharedBatches<FindingRequest, FindingOutcome>

    public init(
        client: PostgresClient, links: DocumentLinks, maxBatch: Int = 64, maxConcurrentCommits: Int = 2,
        logger: Logger = Logger(label: "tipwire.findings")
    ) {
        self.client = client
        self.links = links
        // A finding in a commit always finishes it, whatever its bound: the commit may have begun.
        batches = SharedBatches(
            maxBatch: maxBatch, maxConcurrent: maxConcurrentCommits, started: .finishes,
            shedMessage: { "no commit could take the finding within the admission bound of \($0); nothing was written" },
            run: { [commit = SharedCommit(client: client, links: links, logger: logger)] requests in
                // As the pipeline: a shared commit holds several newsrooms' findings.
                await DatabaseScope.system { await commit.commit(requests) }
            })
    }

    // MARK: - Ingest

    /// Commits one finding (sharing the transaction with concurrent ones) and returns once it is durable.
    public func submit(_ request: FindingRequest) async throws -> FindingOutcome {
        try await batches.submit(request)
    }
}

/// Ingest's shared commit: decides a batch of findings against what the database holds and writes the
/// accepted ones in one transaction.
private struct SharedCommit: Sendable {
    let client: PostgresClient
    let links: DocumentLinks
    let logger: Logger

    func commit(_ batch: [FindingRequest]) async -> [Result<FindingOutcome, any Error>] {
        do {
            // Two round trips, no BEGIN or COMMIT of their own: the reads, then every write in one pipeline,
            // which PostgreSQL runs as one implicit transaction ending at its sync point (all or nothing). A
            // key another commit records between the two fails the writes on its unique index, as below.
            let (outcomes, deferred) = try await client.withConnection { connection in
                try await apply(batch, on: connection)
            }
            var answers: [Result<FindingOutcome, any Error>?] = outcomes.map { outcome in outcome.map { .success($0) } }
            // A key repeated within the batch: the second use sees the first's record.
            for index in deferred.sorted() { answers[index] = await commit([batch[index]])[0] }
            return answers.map { $0 ?? .failure(PostgresError(.usage, "a finding of a shared commit got no outcome")) }
        } catch let error as PostgresError where batch.count > 1 && !error.isConnectionFailure {
            logger.debug("shared commit failed; retrying its findings one by one", metadata: ["error": "\(error)", "batch": "\(batch.count)"])
            var answers: [Result<FindingOutcome, any Error>] = []
            for request in batch { answers += await commit([request]) }
            return answers
        } catch let error as PostgresError
            where batch.count == 1 && error.sqlState == SQLState.uniqueViolation && error.violates(Constraint.idempotencyKey)
        {
            // The same key committed concurrently in another batch: now it replays.
            return await commit(batch)
        } catch {
            return batch.map { _ in .failure(error) }
        }
    }

    /// What a batch's decisions read, in one round trip: the reference data, the documents the submissions
    /// name, and the idempotency records of their keys.
    private struct Loaded {
        var reference: IntakeReference
        var documents: [UUID: (newsroom: PartyCode, check: DocumentClaimCheck)]
        /// By `scope NUL key`.
        var usedKeys: [String: (hash: [UInt8], status: Int, body: [UInt8])]
    }

    /// The rows a batch writes.
    private struct Writes {
        var findings: [(id: UUID, data: FindingData, documentIDs: [UUID], sourceHandle: SourceHandle?)] = []
        var envelopes: [(handle: SourceHandle, envelope: SourceEnvelope)] = []
        var tasks: [TaskRow] = []
        var events: [TaskEventRow] = []
        var outbox: [OutboundEvent] = []
        var keys: [(scope: String, key: String, hash: [UInt8], body: [UInt8])] = []
    }

    /// Decides and writes the batch (its writes all or nothing: one pipeline). Returns an outcome per request (nil for deferred ones).
    private func apply(_ requests: [FindingRequest], on connection: PostgresConnection) async throws -> ([FindingOutcome?], Set<Int>) {
        let now = Date()
        let loaded = try await load(requests, on: connection)
        var outcomes = [FindingOutcome?](repeating: nil, count: requests.count)
        var deferred = Set<Int>()
        var keysInBatch = Set<String>()
        var writes = Writes()
        for (index, request) in requests.enumerated() {
            let keyID = request.idempotencyScope + "\u{0}" + request.idempotencyKey
            if let used = loaded.usedKeys[keyID] {
                outcomes[index] = used.hash == request.requestSHA256 ? .replayed(status: used.status, body: used.body) : .keyReused
                continue
            }
            if !keysInBatch.insert(keyID).inserted {
                deferred.insert(index)
                continue
            }
            let decision: Result<AcceptedFinding, ValidationFailure>
            do {
                decision = try FindingIntake.decide(
                    request.submission, from: request.newsroom, reference: loaded.reference, documents: loaded.documents)
            } catch {
                throw FindingStoreError.routing(error)
            }
            switch decision {
            case .failure(let failure): outcomes[index] = .rejected(failure)
            case .success(let accepted): outcomes[index] = try plan(request, accepted, at: request.receivedAt ?? now, into: &writes)
            }
        }
        if !writes.findings.isEmpty { try await write(writes, on: connection) }
        return (outcomes, deferred)
    }

    private func load(_ requests: [FindingRequest], on connection: PostgresConnection) async throws -> Loaded {
        let documentIDs = Array(Set(requests.flatMap(\.submission.documentIDs)))
        var queries = ReferenceData.queries
        // One index probe per key, said as a lateral join: its generic plan costs what a custom one does,
        // so the server plans it once per connection instead of once per batch.
        queries.append(
            .prepared(
                """
                SELECT k.scope, k.key, k.request_sha256, k.status, k.response
                FROM unnest(\(requests.map(\.idempotencyScope))::text[], \(requests.map(\.idempotencyKey))::text[]) AS r(scope, key)
                CROSS JOIN LATERAL (SELECT * FROM idempotency_keys k WHERE k.scope = r.scope AND k.key = r.key) k
                """))
        // Only when some finding names documents: the statement is planned afresh each time (its plan
        // depends on how many ids there are), and a batch without documents needs none.
        if !documentIDs.isEmpty {
            queries.append(
                .prepared(
                    """
                    SELECT d.id, d.newsroom_code, encode(d.sha256, 'hex'), b.size, d.media_type
                    FROM documents d JOIN document_blobs b ON b.sha256 = d.sha256 WHERE d.id = ANY(\(documentIDs)::uuid[])
                    """))
        }
        let results = try await connection.pipeline(queries)
        let keysResult = ReferenceData.queries.count
        var loaded = Loaded(reference: try ReferenceData.intake(results[0..<keysResult]), documents: [:], usedKeys: [:])
        for (scope, key, hash, status, body) in try results[keysResult].decode((String, String, [UInt8], Int, String).self) {
            loaded.usedKeys[scope + "\u{0}" + key] = (hash, status, Array(body.utf8))
        }
        for (id, newsroom, sha256, size, mediaType) in try results.dropFirst(keysResult + 1).first?.decode((UUID, String, String, Int, String).self)
            ?? []
        {
            loaded.documents[id] = (
                newsroom: try code(newsroom),
                check: DocumentClaimCheck(id: id, sha256: sha256, size: size, mediaType: mediaType, url: links.url(of: id.lowercased))
            )
        }
        return loaded
    }

    /// The rows an accepted finding writes: the finding, a task and an `assigned` event per routed agency,
    /// the events announcing them, and its idempotency record. Returns its outcome.
    private func plan(_ request: FindingRequest, _ accepted: AcceptedFinding, at now: Date, into writes: inout Writes) throws -> FindingOutcome {
        let submission = request.submission
        let findingID = UUID.timeOrdered(at: now)
        let data = FindingData(
            id: findingID, newsroom: request.newsroom, articleURL: submission.articleURL, title: submission.title,
            publishedAt: submission.publishedAt, summary: submission.summary, category: submission.category,
            jurisdiction: submission.jurisdiction, subjectAgency: submission.subjectAgency, receivedAt: now)
        let findingTasks = accepted.routed.map {
            TaskRow(id: UUID.timeOrdered(at: now), findingID: findingID, agency: $0.agency, routedBy: $0.reason, assignedAt: now)
        }
        for task in findingTasks {
            // Tasks taken because a rule named the subject agency say which agency was passed over.
            let excluded = task.routedBy == .conflictOfInterest ? submission.subjectAgency.map { #","excluded_subject":"\#($0)""# } ?? "" : ""
            writes.events.append(
                TaskEventRow(
                    taskID: task.id, kind: "assigned", actor: request.actor, at: now,
                    detail: #"{"routed_by":"\#(task.routedBy.rawValue)"\#(excluded)}"#))
            writes.outbox.append(try .taskAssigned(task, finding: data, documents: accepted.documents))
        }
        writes.outbox.append(try .findingReceived(data, documents: accepted.documents, tasks: findingTasks))
        writes.tasks += findingTasks
        // The envelope is stored apart; the finding, its events and its stored answer carry only the handle.
        let handle = submission.sourceEnvelope.map { envelope in
            let handle = SourceHandle()
            writes.envelopes.append((handle, envelope))
            return handle
        }
        let view = FindingView(finding: data, documents: accepted.documents, tasks: findingTasks.map(\.view), sourceHandle: handle?.rawValue)
        let body = try TipwireJSON.encode(view)
        writes.keys.append((request.idempotencyScope, request.idempotencyKey, request.requestSHA256, body))
        writes.findings.append((findingID, data, submission.documentIDs, handle))
        return .created(view, body: body)
    }

    private func write(_ writes: Writes, on connection: PostgresConnection) async throws {
        let findings = writes.findings
        let keyRows = writes.keys
        let links = findings.flatMap { finding in
            finding.documentIDs.enumerated().map { (finding.id, $0.element, $0.offset) }
        }
        // Statements with no rows to write are left out: even empty, each costs the server a plan and a run.
        var statements: [PostgresQuery] = writes.envelopes.isEmpty ? [] : [Inserts.sourceEnvelopes(writes.envelopes)]
        statements.append(
            .prepared(
                """
                INSERT INTO findings (id, newsroom_code, article_url, title, published_at, summary, category_code, jurisdiction_code,
                                      subject_agency_code, created_at, source_handle)
                SELECT * FROM unnest(\(findings.map(\.id))::uuid[], \(findings.map(\.data.newsroom.rawValue))::text[],
                    \(findings.map(\.data.articleURL))::text[], \(findings.map(\.data.title))::text[], \(findings.map(\.data.publishedAt))::timestamptz[],
                    \(findings.map(\.data.summary))::text[], \(findings.map(\.data.category))::text[],
                    \(findings.map(\.data.jurisdiction.rawValue))::text[], \(findings.map(\.data.subjectAgency?.rawValue))::text[],
                    \(findings.map(\.data.receivedAt))::timestamptz[], \(findings.map(\.sourceHandle?.rawValue))::text[])
                """))
        if !links.isEmpty {
            statements.append(
                .prepared(
                    """
                    INSERT INTO finding_documents (finding_id, document_id, position)
                    SELECT * FROM unnest(\(links.map(\.0))::uuid[], \(links.map(\.1))::uuid[], \(links.map(\.2))::int[])
                    """))
        }
        statements += [
            Inserts.tasks(writes.tasks),
            Inserts.taskEvents(writes.events),
            .prepared(
                """
                INSERT INTO idempotency_keys (scope, key, request_sha256, status, response)
                SELECT scope, key, hash, 201, body
                FROM unnest(\(keyRows.map(\.scope))::text[], \(keyRows.map(\.key))::text[], \(keyRows.map(\.hash))::bytea[], \(keyRows.map { String(decoding: $0.body, as: UTF8.self) })::text[])
                     AS r(scope, key, hash, body)
                """),
        ]
        _ = try await connection.pipeline(statements + Inserts.outbox(writes.outbox))
    }
}
