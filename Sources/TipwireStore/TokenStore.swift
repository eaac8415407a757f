import Foundation
import Postgres
import TipwireCore

/// A token as listed: never the secret itself.
public struct TokenRecord: Sendable, Hashable, Codable {
    public var id: UUID
    public var role: Role
    public var newsroom: PartyCode?
    public var agency: PartyCode?
    public var label: String
    public var createdAt: Date
    public var revokedAt: Date?
}

/// API tokens: created once (the caller sees the secret once), looked up by SHA-256, revoked by id.
public struct TokenStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    public enum TokenError: Error, CustomStringConvertible {
        case scope(String)

        public var description: String {
            switch self {
            case .scope(let message): message
            }
        }
    }

    /// Creates a token for `role`, scoped to a newsroom (liaison) or an agency (agency, coordinator).
    public func create(role: Role, scope: PartyCode?, label: String = "") async throws -> (BearerToken, TokenRecord) {
        switch (role.scopeKind, scope) {
        case (.newsroom, nil): throw TokenError.scope("a \(role.rawValue) token needs a newsroom code")
        case (.agency, nil): throw TokenError.scope("a \(role.rawValue) token needs an agency code")
        case (.none, .some): throw TokenError.scope("a \(role.rawValue) token has no newsroom or agency scope")
        default: break
        }
        let token = BearerToken()
        let newsroom = role.scopeKind == .newsroom ? scope : nil
        let agency = role.scopeKind == .agency ? scope : nil
        let id = UUID()
        do {
            let rows = try await client.query(
                """
                INSERT INTO api_tokens (id, token_sha256, role, newsroom_code, agency_code, label)
                VALUES (\(id), \(token.sha256), \(role.rawValue), \(newsroom?.rawValue), \(agency?.rawValue), \(label))
                RETURNING created_at
                """)
            let createdAt = try rows[0].decode(column: 0, as: Date.self)
            return (token, TokenRecord(id: id, role: role, newsroom: newsroom, agency: agency, label: label, createdAt: createdAt))
        } catch let error as PostgresError where error.sqlState == SQLState.foreignKeyViolation {
            throw TokenError.scope("no \(newsroom != nil ? "newsroom" : "agency") with code '\(scope?.rawValue ?? "")'")
        }
    }

    public func list(includeRevoked: Bool = false) async throws -> [TokenRecord] {
        let rows = try await client.query(
            """
            SELECT id, role, newsroom_code, agency_code, label, created_at, revoked_at FROM api_tokens
            WHERE \(includeRevoked) OR revoked_at IS NULL ORDER BY created_at, id
            """)
        return try rows.map { row in
            let (id, role, newsroom, agency, label, createdAt, revokedAt) = try row.decode((UUID, String, String?, String?, String, Date, Date?).self)
            return TokenRecord(
                id: id, role: Role(rawValue: role) ?? .auditor, newsroom: newsroom.flatMap(PartyCode.init), agency: agency.flatMap(PartyCode.init),
                label: label, createdAt: createdAt, revokedAt: revokedAt)
        }
    }

    /// Revokes a token; false when no unrevoked token has this id.
    public func revoke(id: UUID) async throws -> Bool {
        try await client.execute("UPDATE api_tokens SET revoked_at = now() WHERE id = \(id) AND revoked_at IS NULL") == 1
    }

    /// The principal a token stands for, or nil when it is unknown or revoked.
    public func authenticate(_ token: BearerToken) async throws -> Principal? {
        let rows = try await client.query(
            "SELECT id, role, newsroom_code, agency_code FROM api_tokens WHERE token_sha256 = \(token.sha256) AND revoked_at IS NULL")
        guard let row = rows.firstRow else { return nil }
        let (id, role, newsroom, agency) = try row.decode((UUID, String, String?, String?).self)
        guard let role = Role(rawValue: role) else { return nil }
        return Principal(tokenID: id, role: role, newsroom: newsroom.flatMap(PartyCode.init), agency: agency.flatMap(PartyCode.init))
    }
}
