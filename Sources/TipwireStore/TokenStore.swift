import Foundation
import Postgres
import Synchronization
import TipwireCore

/// A token as listed: never the secret itself.
public struct TokenRecord: Sendable, Hashable, Codable {
    public var id: UUID
    public var role: Role
    public var newsroom: PartyCode?
    public var agency: PartyCode?
    public var holder: String
    public var label: String
    public var createdAt: Date
    public var expiresAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?
    /// The token this one replaced (`tipwire token rotate`).
    public var rotatedFrom: UUID?

    enum CodingKeys: String, CodingKey {
        case id, role, newsroom, agency, holder, label
        case createdAt = "created_at", expiresAt = "expires_at", lastUsedAt = "last_used_at", revokedAt = "revoked_at", rotatedFrom = "rotated_from"
    }
}

/// What a presented token turned out to be.
public enum Authentication: Sendable {
    case valid(Principal)
    /// A real token past its expiry (it says when, so its holder knows to ask for a new one).
    case expired(at: Date)
    /// Unknown or revoked: the same answer for both, so a caller learns nothing about other tokens.
    case unknown
}

/// API tokens: created once (the caller sees the secret once), looked up by SHA-256, expiring,
/// rotated and revoked by id.
public struct TokenStore: Sendable {
    let client: PostgresClient
    let usage = TokenUsage()
    /// Concurrent requests' lookups share a round trip. Each still starts after its request arrived, so
    /// a token revoked or expired by then is never accepted; a lookup that cannot get a connection within
    /// its request's admission bound fails with `.admissionTimeout` (503) like any other read.
    private let lookups: SharedBatches<[UInt8], LiveToken?>

    public init(client: PostgresClient) {
        self.client = client
        lookups = SharedBatches(
            maxBatch: 64, maxConcurrent: 2, started: .shedsAtEarliestBound,
            shedMessage: { "no token lookup could start within the admission bound of \($0)" },
            run: { hashes in await Self.lookUp(hashes, client: client) })
    }

    public enum TokenError: Error, CustomStringConvertible {
        case scope(String)
        case holder(String)
        case notFound(UUID)

        public var description: String {
            switch self {
            case .scope(let message), .holder(let message): message
            case .notFound(let id): "no unrevoked token has id \(id.lowercased)"
            }
        }
    }

    static let columns = """
        id, role, newsroom_code, agency_code, holder, label, created_at, expires_at, last_used_at, revoked_at, rotated_from
        """

    /// Names the operator running the command line in the audit log.
    public static let operatorActor = "operator:" + (ProcessInfo.processInfo.environment["USER"] ?? "unknown")

    /// Creates a token for `role`, scoped to a newsroom (liaison) or an agency (agency, coordinator), held by
    /// the officer `holder`, valid for `lifetime` seconds. `actor` (who made it) goes in the audit log.
    public func create(
        role: Role, scope: PartyCode?, holder: String, label: String = "", lifetime: TimeInterval = TokenLifetime.default,
        by actor: String = operatorActor
    ) async throws -> (BearerToken, TokenRecord) {
        switch (role.scopeKind, scope) {
        case (.newsroom, nil): throw TokenError.scope("a \(role.rawValue) token needs a newsroom code")
        case (.agency, nil): throw TokenError.scope("a \(role.rawValue) token needs an agency code")
        case (.none, .some): throw TokenError.scope("a \(role.rawValue) token has no newsroom or agency scope")
        default: break
        }
        let holder = TextRules.normalized(holder)
        if let problem = TextRules.problem(holder, length: 1...100, multiline: false, blankAllowed: false) {
            throw TokenError.holder("the holder (the officer's name) \(problem)")
        }
        let newsroom = role.scopeKind == .newsroom ? scope : nil
        let agency = role.scopeKind == .agency ? scope : nil
        do {
            return try await client.withTransaction { connection in
                let made = try await Self.insert(
                    role: role, newsroom: newsroom, agency: agency, holder: holder, label: label, lifetime: lifetime, rotatedFrom: nil, on: connection
                )
                try await AuditStore.record([Self.audit(.tokenCreated, made.1, by: actor)], on: connection)
                return made
            }
        } catch let error as PostgresError where error.sqlState == SQLState.foreignKeyViolation {
            throw TokenError.scope("no \(newsroom != nil ? "newsroom" : "agency") with code '\(scope?.rawValue ?? "")'")
        }
    }

    private static func insert(
        role: Role, newsroom: PartyCode?, agency: PartyCode?, holder: String, label: String, lifetime: TimeInterval, rotatedFrom: UUID?,
        on connection: PostgresConnection
    ) async throws -> (BearerToken, TokenRecord) {
        let token = BearerToken()
        let id = UUID.timeOrdered()
        let rows = try await connection.query(
            """
            INSERT INTO api_tokens (id, token_sha256, role, newsroom_code, agency_code, holder, label, expires_at, rotated_from)
            VALUES (\(id), \(token.sha256), \(role.rawValue), \(newsroom?.rawValue), \(agency?.rawValue), \(holder), \(label),
                    now() + make_interval(secs => \(lifetime)), \(rotatedFrom))
            RETURNING \(unescaped: columns)
            """)
        return (token, try record(rows[0]))
    }

    /// A new token with the same role, scope, holder and label as `id`, which stops working after `grace`
    /// seconds (0: at once), so the holder can switch its clients over.
    public func rotate(
        id: UUID, lifetime: TimeInterval = TokenLifetime.default, grace: TimeInterval = 0, by actor: String = operatorActor
    ) async throws -> (BearerToken, TokenRecord) {
        try await client.withTransaction { connection in
            let rows = try await connection.query(
                """
                UPDATE api_tokens SET expires_at = least(expires_at, now() + make_interval(secs => \(max(0, grace))))
                WHERE id = \(id) AND revoked_at IS NULL RETURNING \(unescaped: Self.columns)
                """)
            guard let row = rows.firstRow else { throw TokenError.notFound(id) }
            let old = try Self.record(row)
            let made = try await Self.insert(
                role: old.role, newsroom: old.newsroom, agency: old.agency, holder: old.holder, label: old.label, lifetime: lifetime, rotatedFrom: id,
                on: connection)
            try await AuditStore.record([Self.audit(.tokenRotated, made.1, by: actor)], on: connection)
            return made
        }
    }

    public func list(includeRevoked: Bool = false) async throws -> [TokenRecord] {
        let rows = try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM api_tokens
            WHERE \(includeRevoked) OR (revoked_at IS NULL AND expires_at > now()) ORDER BY created_at, id
            """)
        return try rows.map(Self.record)
    }

    static func record(_ row: PostgresRow) throws -> TokenRecord {
        let (id, role, newsroom, agency, holder, label, createdAt, expiresAt, lastUsedAt, revokedAt, rotatedFrom) =
            try row.decode((UUID, String, String?, String?, String, String, Date, Date, Date?, Date?, UUID?).self)
        return TokenRecord(
            id: id, role: Role(rawValue: role) ?? .auditor, newsroom: newsroom.flatMap(PartyCode.init), agency: agency.flatMap(PartyCode.init),
            holder: holder, label: label, createdAt: createdAt, expiresAt: expiresAt, lastUsedAt: lastUsedAt, revokedAt: revokedAt,
            rotatedFrom: rotatedFrom)
    }

    /// Revokes a token; false when no unrevoked token has this id.
    public func revoke(id: UUID, by actor: String = operatorActor) async throws -> Bool {
        try await client.withTransaction { connection in
            let rows = try await connection.query(
                "UPDATE api_tokens SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL RETURNING \(unescaped: Self.columns)")
            guard let row = rows.firstRow else { return false }
            try await AuditStore.record([Self.audit(.tokenRevoked, try Self.record(row), by: actor)], on: connection)
            return true
        }
    }

    /// A token's audit entry: its role, scope and holder, never its secret.
    static func audit(_ action: AuditAction, _ record: TokenRecord, by actor: String) -> AuditEntry {
        var detail: [String: JSONValue] = ["role": .string(record.role.rawValue), "holder": .string(record.holder)]
        if let scope = record.newsroom ?? record.agency { detail["scope"] = .string(scope.rawValue) }
        if let from = record.rotatedFrom { detail["rotated_from"] = .string(from.lowercased) }
        return AuditEntry(actor: actor, action: action, object: "tokens/\(record.id.lowercased)", detail: detail)
    }

    /// What `token` stands for. A valid token's `last_used_at` is brought up to date at most once a minute
    /// per token and process (`usage`), so busy clients do not turn every request into a write.
    public func authenticate(_ token: BearerToken) async throws -> Authentication {
        guard let live = try await lookups.submit(token.sha256) else { return .unknown }
        if live.expired { return .expired(at: live.expiresAt) }
        guard let role = Role(rawValue: live.role) else { return .unknown }
        if usage.isDue(live.id) {
            try await client.execute("UPDATE api_tokens SET last_used_at = now() WHERE id = \(live.id)")
        }
        return .valid(
            Principal(
                tokenID: live.id, role: role, newsroom: live.newsroom.flatMap(PartyCode.init), agency: live.agency.flatMap(PartyCode.init),
                holder: live.holder))
    }

    /// An unrevoked token's row, as one lookup found it.
    struct LiveToken: Sendable {
        var id: UUID
        var role: String
        var newsroom: String?
        var agency: String?
        var holder: String
        var expiresAt: Date
        var expired: Bool
    }

    /// The unrevoked tokens with these hashes, nil for a hash no such token has: one pipeline for the
    /// batch, a statement per distinct hash (one hash each keeps the plan generic, so it is planned once per
    /// connection; an array of them would be planned afresh every time).
    private static func lookUp(_ hashes: [[UInt8]], client: PostgresClient) async -> [Result<LiveToken?, any Error>] {
        var seen = Set<[UInt8]>()
        let distinct = hashes.filter { seen.insert($0).inserted }
        do {
            let results = try await client.pipeline(
                distinct.map { hash in
                    .prepared(
                        """
                        SELECT id, role, newsroom_code, agency_code, holder, expires_at, expires_at <= now()
                        FROM api_tokens WHERE token_sha256 = \(hash) AND revoked_at IS NULL
                        """)
                })
            var found: [[UInt8]: LiveToken] = [:]
            for (hash, rows) in zip(distinct, results) {
                guard let row = rows.firstRow else { continue }
                let (id, role, newsroom, agency, holder, expiresAt, expired) = try row.decode(
                    (UUID, String, String?, String?, String, Date, Bool).self)
                found[hash] = LiveToken(
                    id: id, role: role, newsroom: newsroom, agency: agency, holder: holder, expiresAt: expiresAt, expired: expired)
            }
            return hashes.map { .success(found[$0]) }
        } catch {
            return hashes.map { _ in .failure(error) }
        }
    }
}

/// When this process last recorded each token's use: `last_used_at` says when a token was last seen to
/// the minute, which is what an administrator needs to spot a forgotten or stolen token.
final class TokenUsage: Sendable {
    static let interval: Duration = .seconds(60)
    private let recorded = Mutex<[UUID: ContinuousClock.Instant]>([:])

    /// True (and noted) when the token's use was not recorded in the last minute.
    func isDue(_ token: UUID, at now: ContinuousClock.Instant = .now) -> Bool {
        recorded.withLock { recorded in
            if let last = recorded[token], now - last < Self.interval { return false }
            if recorded.count > 10_000 { recorded = recorded.filter { now - $0.value < Self.interval } }
            recorded[token] = now
            return true
        }
    }
}
