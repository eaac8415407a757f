import Crypto
import Foundation
import Postgres
import TipwireCore

/// A signed-in dashboard session: who it is, and the form token its forms carry.
public struct DashboardSession: Sendable, Hashable {
    public var principal: Principal
    public var csrf: String
    public var expiresAt: Date
}

/// Dashboard sessions (migration 0018): a token exchanged for a cookie's secret, of which only the
/// SHA-256 is kept. A session ends at sign-out, when it expires, or when its token is revoked or expires.
public struct SessionStore: Sendable {
    let client: PostgresClient

    /// How long a session lasts: a working day.
    public static let lifetime: TimeInterval = 8 * 3600

    public init(client: PostgresClient) { self.client = client }

    /// Opens a session for `principal`'s token; returns the cookie's secret and the session.
    public func open(for principal: Principal, now: Date = Date()) async throws -> (secret: String, session: DashboardSession) {
        let secret = Self.randomText()
        let session = DashboardSession(principal: principal, csrf: Self.randomText(), expiresAt: now.addingTimeInterval(Self.lifetime))
        try await client.execute(
            """
            INSERT INTO dashboard_sessions (secret_sha256, token_id, csrf, created_at, expires_at)
            VALUES (\(Self.digest(secret)), \(principal.tokenID), \(session.csrf), \(now), \(session.expiresAt))
            """)
        return (secret, session)
    }

    /// The live session whose cookie holds `secret`, or nil.
    public func session(_ secret: String) async throws -> DashboardSession? {
        guard (20...100).contains(secret.utf8.count) else { return nil }
        let rows = try await client.query(
            """
            SELECT t.id, t.role, t.newsroom_code, t.agency_code, t.holder, s.csrf, s.expires_at
            FROM dashboard_sessions s JOIN api_tokens t ON t.id = s.token_id
            WHERE s.secret_sha256 = \(Self.digest(secret)) AND s.ended_at IS NULL AND s.expires_at > now()
              AND t.revoked_at IS NULL AND t.expires_at > now()
            """)
        guard let row = rows.firstRow else { return nil }
        let (id, role, newsroom, agency, holder, csrf, expiresAt) = try row.decode((UUID, String, String?, String?, String, String, Date).self)
        guard let role = Role(rawValue: role) else { return nil }
        return DashboardSession(
            principal: Principal(
                tokenID: id, role: role, newsroom: newsroom.flatMap(PartyCode.init), agency: agency.flatMap(PartyCode.init), holder: holder),
            csrf: csrf, expiresAt: expiresAt)
    }

    /// Ends the session (sign-out); ended sessions older than a day are deleted on the way.
    public func end(_ secret: String) async throws {
        _ = try await client.pipeline([
            "UPDATE dashboard_sessions SET ended_at = now() WHERE secret_sha256 = \(Self.digest(secret)) AND ended_at IS NULL",
            "DELETE FROM dashboard_sessions WHERE expires_at < now() - interval '1 day'",
        ])
    }

    /// 32 random bytes as base64url: a session's secret, a form token.
    public static func randomText() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    static func digest(_ secret: String) -> [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }
}
