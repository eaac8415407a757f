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
/// Concurrent submissions are gathered into shared transactions: while one commit is
/// in flight, newly arriving findings queue up and go together in the next one. Each
/// finding's rows (finding, tasks, `assigned` events, outbox rows, idempotency record)
/// are still all-or-nothing: a batch that fails is retried one finding at a time.
///
/// Under overload a finding sheds rather than queues: with `PostgresClient.admissionBound` set (the API
/// sets it per request), one still waiting for a commit when the bound passes leaves the queue and fails
/// with `.admissionTimeout`, nothing written. A finding already in a commit always finishes it.
public final class FindingStore: Sendable {
    let client: PostgresClient
    /// Where a document is fetched, for claim-checks.
    public let links: DocumentLinks
    let logger: Logger
    let maxBatch: Int
    let maxConcurrentCommits: Int

    private struct Pending {
        let id: UInt64
        let request: FindingRequest
        let continuation: CheckedContinuation<FindingOutcome, any Error>
        /// Sheds the finding if it is still queued when the admission bound passes.
        var shedding: Task<Void, Never>?
    }

    private struct Queue {
        var pending: [Pending] = []
        var committers = 0
        var nextID: UInt64 = 0
    }

    private let queue = Mutex(Queue())

    public init(
        client: PostgresClient, links: DocumentLinks, maxBatch: Int = 64, maxConcurrentCommits: Int = 2,
        logger: Logger = Logger(label: "tipwire.findings")
    ) {
        self.client = client
        self.links = links
        self.maxBatch = max(1, maxBatch)
        self.maxConcurrentCommits = max(1, maxConcurrentCommits)
        self.logger = logger
    }

    // MARK: - Ingest

    /// Commits one finding (sharing the transaction with concurrent ones) and returns once it is durable.
    public func submit(_ request: FindingRequest) async throws -> FindingOutcome {
        let bound = PostgresClient.admissionBound
        return try await withCheckedThrowingContinuation { continuation in
            let (id, startCommitter) = queue.withLock { queue in
                queue.nextID += 1
                queue.pending.append(Pending(id: queue.nextID, request: request, continuation: continuation))
                guard queue.committers < maxConcurrentCommits else { return (queue.nextID, false) }
                queue.committers += 1
                return (queue.nextID, true)
            }
            if startCommitter {
                // Unstructured on purpose: a client hanging up must not cancel a commit other requests share.
                // As the pipeline: a shared commit holds several newsrooms' findings. Once started, a commit
                // waits for its connection as long as the pool allows: no admission bound.
                Task {
                    await PostgresClient.$admissionBound.withValue(nil) { await DatabaseScope.system { await self.commitWhilePending() } }
                }
            }
            if let bound { shed(id, after: bound) }
        }
    }

    /// Fails the queued finding `id` with `.admissionTimeout` if no commit has taken it `bound` from now.
    private func shed(_ id: UInt64, after bound: Duration) {
        let timer = Task {
            guard (try? await Task.sleep(for: bound)) != nil else { return }
            let waiting = queue.withLock { queue -> Pending? in
                guard let index = queue.pending.firstIndex(where: { $0.id == id }) else { return nil }
                return queue.pending.remove(at: index)
            }
            waiting?.continuation.resume(
                throwing: PostgresError(
                    .admissionTimeout, "no commit could take the finding within the admission bound of \(bound); nothing was written"))
        }
        let taken = queue.withLock { queue -> Bool in
            guard let index = queue.pending.firstIndex(where: { $0.id == id }) else { return true }
            queue.pending[index].shedding = timer
            return false
        }
        if taken { timer.cancel() }
    }

    private func commitWhilePending() async {
        while true {
            let batch = queue.withLock { queue -> [Pending] in
                if queue.pending.isEmpty {
                    queue.committers -= 1
                    return []
                }
                let batch = Array(queue.pending.prefix(maxBatch))
                queue.pending.removeFirst(batch.count)
                return batch
            }
            if batch.isEmpty { return }
            for pending in batch { pending.shedding?.cancel() }
            await commit(batch)
        }
    }

    private func commit(_ batch: [Pending]) async {
        do {
            // Two round trips, no BEGIN or COMMIT of their own: the reads, then every write in one pipeline,
            // which PostgreSQL runs as one implicit transaction ending at its sync point (all or nothing). A
            // key another commit records between the two fails the writes on its unique index, as below.
            let (outcomes, deferred) = try await client.withConnection { connection in
                try await self.apply(batch.map(\.request), on: connection)
            }
            for (index, pending) in batch.enumerated() where !deferred.contains(index) {
                pending.continuation.resume(returning: outcomes[index]!)
            }
            // A key repeated within the batch: the second use sees the first's record.
            for index in deferred.sorted() { await commit([batch[index]]) }
        } catch let error as PostgresError where batch.count > 1 && !error.isConnectionFailure {
            logger.debug("shared commit failed; retrying its findings one by one", metadata: ["error": "\(error)", "batch": "\(batch.count)"])
            for pending in batch { await commit([pending]) }
        } catch let error as PostgresError
            where batch.count == 1 && error.sqlState == SQLState.uniqueViolation && error.violates(Constraint.idempotencyKey)
        {
            // The same key committed concurrently in another batch: now it replays.
            await commit(batch)
        } catch {
            for pending in batch { pending.continuation.resume(throwing: error) }
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
        queries.append(
            .prepared(
                """
                SELECT k.scope, k.key, k.request_sha256, k.status, k.response
                FROM idempotency_keys k JOIN unnest(\(requests.map(\.idempotencyScope))::text[], \(requests.map(\.idempotencyKey))::text[]) AS r(scope, key)
                  ON k.scope = r.scope AND k.key = r.key
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
