import Crypto
import Foundation
import Postgres
import TipwireCore

/// What the audit log records.
public enum AuditAction: String, Sendable, CaseIterable {
    case tokenCreated = "token.created"
    case tokenRotated = "token.rotated"
    case tokenRevoked = "token.revoked"
    case documentRead = "document.read"
    case policyChanged = "policy.changed"
    case reportingCalendarChanged = "calendar.reporting_changed"
    case taskReassigned = "task.reassigned"
    case taskClosed = "task.closed"
    case sourceKeyRegistered = "source.key_registered"
    case sourceRead = "source.read"
    case disclosureRequested = "disclosure.requested"
    case disclosureDecided = "disclosure.decided"
    case protectionOpened = "protection.opened"
    case protectionAcknowledged = "protection.acknowledged"
    case protectionResolved = "protection.resolved"
    case personAdded = "person.added"
    case personChanged = "person.changed"
    case personRemoved = "person.removed"
}

/// One thing that happened, for the audit log: who, what, to which object, and what else matters (never
/// document, summary or source content).
public struct AuditEntry: Sendable {
    public var actor: String
    public var action: AuditAction
    /// `kind/id`: `tokens/…`, `documents/…`, `policies/…`, `tasks/…`, `sources/…`, `newsrooms/…/source-keys/…`.
    public var object: String
    public var detail: [String: JSONValue] = [:]

    /// A download that handed out `bytes` of document `id` (lower-case UUID) to `actor`.
    public static func documentRead(_ id: String, bytes: Range<Int>, by actor: String) -> AuditEntry {
        AuditEntry(
            actor: actor, action: .documentRead, object: "documents/\(id)",
            detail: ["from": .number(Double(bytes.lowerBound)), "bytes": .number(Double(bytes.count))])
    }
}

/// One row of the audit log as an auditor reads it.
public struct AuditRecord: Sendable, Codable, Hashable {
    public var id: Int64
    public var at: Date
    public var actor: String
    public var action: String
    public var object: String
    public var detail: JSONValue
    /// The row's hash and its predecessor's, hex: the chain, checkable by anyone holding the rows.
    public var hash: String
    public var prevHash: String

    enum CodingKeys: String, CodingKey {
        case id, at, actor, action, object, detail, hash
        case prevHash = "prev_hash"
    }
}

/// Filters for `GET /v1/audit`; every one is optional.
public struct AuditFilter: Sendable {
    public var actor: String?
    public var action: AuditAction?
    public var object: String?
    public var since: Date?
    public var until: Date?
    public var after: SequenceCursor?
    public var limit = 50

    public init() {}
}

/// The result of walking the chain.
public enum AuditVerification: Sendable, Equatable {
    /// Every row links to the one before and matches its content; `head` is the newest row's hash (nil when empty).
    case intact(rows: Int, head: AuditHead?)
    /// The first row that breaks the chain, and how.
    case broken(id: Int64, reason: String)
}

/// The newest row: its id and hash, for publication out of band.
public struct AuditHead: Sendable, Equatable {
    public var id: Int64
    public var hash: [UInt8]
    public var hex: String { hash.map { String(format: "%02x", $0) }.joined() }
}

/// The tamper-evident audit log (migration 0010): rows are chained by the database as they are inserted, in
/// the transaction of the action they record; this reads and checks the chain.
public struct AuditStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// Records entries in the caller's transaction, so they commit or roll back with the action.
    static func record(_ entries: [AuditEntry], on connection: PostgresConnection) async throws {
        if entries.isEmpty { return }
        let details = try entries.map { String(decoding: try TipwireJSON.encode($0.detail), as: UTF8.self) }
        try await connection.execute(
            """
            INSERT INTO audit_log (actor, action, object, detail)
            SELECT * FROM unnest(\(entries.map(\.actor))::text[], \(entries.map(\.action.rawValue))::text[], \(entries.map(\.object))::text[],
                                 \(details)::jsonb[])
            """)
    }

    /// Records an entry in a transaction of its own (an action that wrote nothing else: a download).
    public func record(_ entry: AuditEntry) async throws {
        try await client.withTransaction { try await Self.record([entry], on: $0) }
    }

    /// A page of rows, newest first. `actor` matches the principal with or without the officer's name
    /// (`agency:so-nnmt` finds `agency:so-nnmt (Trần Thị B)`).
    public func list(_ filter: AuditFilter) async throws -> Page<AuditRecord> {
        let limit = min(max(filter.limit, 1), 200)
        let rows = try await client.query(
            """
            SELECT id, at, actor, action, object, detail::text, encode(hash, 'hex'), encode(prev_hash, 'hex') FROM audit_log
            WHERE (\(filter.actor)::text IS NULL OR actor = \(filter.actor) OR starts_with(actor, \(filter.actor) || ' ('))
              AND (\(filter.action?.rawValue)::text IS NULL OR action = \(filter.action?.rawValue))
              AND (\(filter.object)::text IS NULL OR object = \(filter.object))
              AND (\(filter.since)::timestamptz IS NULL OR at >= \(filter.since))
              AND (\(filter.until)::timestamptz IS NULL OR at < \(filter.until))
              AND (\(filter.after?.id)::bigint IS NULL OR id < \(filter.after?.id))
            ORDER BY id DESC LIMIT \(limit + 1)
            """
        ).decode((Int64, Date, String, String, String, String, String, String).self)
        let records = try rows.prefix(limit).map { id, at, actor, action, object, detail, hash, prevHash in
            AuditRecord(
                id: id, at: at, actor: actor, action: action, object: object,
                detail: try JSONDecoder().decode(JSONValue.self, from: Data(detail.utf8)),
                hash: hash, prevHash: prevHash)
        }
        return Page(items: records, nextCursor: rows.count > limit ? records.last.map { SequenceCursor(id: $0.id).token } : nil)
    }

    /// The newest row, or nil while the log is empty.
    public func head() async throws -> AuditHead? {
        guard let row = try await client.query("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").firstRow else { return nil }
        let (id, hash) = try row.decode((Int64, [UInt8]).self)
        return AuditHead(id: id, hash: hash)
    }

    /// Walks the whole chain in id order, `batch` rows at a time, recomputing every hash; `progress` is told
    /// the rows checked so far after each batch.
    public func verify(batch: Int = 10_000, progress: (Int) -> Void = { _ in }) async throws -> AuditVerification {
        var previous = [UInt8](repeating: 0, count: 32)
        var last: AuditHead?
        var checked = 0
        while true {
            let rows = try await client.query(
                """
                SELECT id, prev_hash, hash, audit_log_content(id, at, actor, action, object, detail) FROM audit_log
                WHERE id > \(last?.id ?? 0) ORDER BY id LIMIT \(max(1, batch))
                """
            ).decode((Int64, [UInt8], [UInt8], [UInt8]).self)
            if rows.isEmpty { return .intact(rows: checked, head: last) }
            for (id, prevHash, hash, content) in rows {
                guard prevHash == previous else {
                    return .broken(
                        id: id, reason: last.map { "its prev_hash is not row \($0.id)'s hash" } ?? "the first row does not start from zero")
                }
                guard hash == Array(SHA256.hash(data: previous + content)) else {
                    return .broken(id: id, reason: "its hash does not match its content")
                }
                previous = hash
                last = AuditHead(id: id, hash: hash)
                checked += 1
            }
            progress(checked)
        }
    }
}
