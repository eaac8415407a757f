import Foundation
import Postgres
import TipwireCore

/// One registered source key, as its newsroom reads the list.
public struct SourceKeyRecord: Sendable, Codable, Hashable {
    public var keyID: String
    public var publicKey: String
    public var registeredAt: Date
    public var registeredBy: String
    /// When a newer key replaced it; nil for the current key.
    public var retiredAt: Date?

    enum CodingKeys: String, CodingKey {
        case keyID = "key_id", publicKey = "public_key", registeredAt = "registered_at", registeredBy = "registered_by", retiredAt = "retired_at"
    }

    /// `retired_at` is always present, null for the current key.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(keyID, forKey: .keyID)
        try container.encode(publicKey, forKey: .publicKey)
        try container.encode(registeredAt, forKey: .registeredAt)
        try container.encode(registeredBy, forKey: .registeredBy)
        try container.encode(retiredAt, forKey: .retiredAt)
    }
}

/// A newsroom's source keys, newest first; the current one seals new envelopes.
public struct SourceKeyList: Sendable, Codable, Hashable {
    public var newsroom: String
    public var currentKeyID: String?
    public var keys: [SourceKeyRecord]

    enum CodingKeys: String, CodingKey {
        case newsroom, keys
        case currentKeyID = "current_key_id"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(newsroom, forKey: .newsroom)
        try container.encode(currentKeyID, forKey: .currentKeyID)
        try container.encode(keys, forKey: .keys)
    }
}

public enum SourceKeyRegistration: Sendable {
    /// The key is now current; the one before it, if any, is retired.
    case registered(SourceKeyList)
    /// It already was the current key: nothing changed.
    case unchanged(SourceKeyList)
    /// A retired key cannot become current again, and a key belongs to one newsroom.
    case refused(String)
}

/// A sealed envelope as stored, for its newsroom.
public struct StoredEnvelope: Sendable, Codable, Hashable {
    public var handle: String
    public var version: Int
    public var newsroom: String
    public var keyID: String
    public var aead: String
    public var enc: String
    public var ciphertext: String
    public var createdAt: Date
    public var findingID: String?

    enum CodingKeys: String, CodingKey {
        case handle, version, newsroom, aead, enc, ciphertext
        case keyID = "key_id", createdAt = "created_at", findingID = "finding_id"
    }

    /// `finding_id` is always present, null for a protection case's details.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(handle, forKey: .handle)
        try container.encode(version, forKey: .version)
        try container.encode(newsroom, forKey: .newsroom)
        try container.encode(keyID, forKey: .keyID)
        try container.encode(aead, forKey: .aead)
        try container.encode(enc, forKey: .enc)
        try container.encode(ciphertext, forKey: .ciphertext)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(findingID, forKey: .findingID)
    }
}

/// Newsroom source keys and sealed source envelopes (migration 0012). The server stores public keys and
/// ciphertext only; every read of an envelope is audited in the transaction that reads it.
public struct SourceStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// Makes `key` its newsroom's current source key, retiring the current one (still listed, so envelopes
    /// sealed to it can be opened by whoever kept its private key). Registering the current key again
    /// changes nothing.
    public func register(_ key: SourcePublicKey, by actor: String) async throws -> SourceKeyRegistration {
        try await client.withTransaction { connection in
            // One registration per newsroom at a time: the current key is read and replaced under this lock.
            try await connection.execute("SELECT 1 FROM newsrooms WHERE code = \(key.newsroom.rawValue) FOR UPDATE")
            let known = try await connection.query(
                "SELECT newsroom_code, key_id, retired_at FROM source_keys WHERE public_key = \(key.bytes)"
            ).decode((String, String, Date?).self).first
            if let (newsroom, id, retiredAt) = known {
                if newsroom != key.newsroom.rawValue { return .refused("this public key is registered by another newsroom; generate a new key") }
                if retiredAt != nil { return .refused("key \(id) was retired and cannot become current again; generate a new key") }
                return .unchanged(try await Self.keys(of: key.newsroom, on: connection))
            }
            let retired = try await connection.query(
                """
                UPDATE source_keys SET retired_at = now() WHERE newsroom_code = \(key.newsroom.rawValue) AND retired_at IS NULL
                RETURNING key_id
                """
            ).decodeColumn(String.self)
            try await connection.execute(
                """
                INSERT INTO source_keys (newsroom_code, key_id, public_key, registered_by)
                VALUES (\(key.newsroom.rawValue), \(key.id.rawValue), \(key.bytes), \(actor))
                """)
            var entry = AuditEntry(actor: actor, action: .sourceKeyRegistered, object: "newsrooms/\(key.newsroom)/source-keys/\(key.id)")
            if let old = retired.first { entry.detail["retired_key_id"] = .string(old) }
            try await AuditStore.record([entry], on: connection)
            return .registered(try await Self.keys(of: key.newsroom, on: connection))
        }
    }

    /// The newsroom's keys, newest first.
    public func keys(of newsroom: PartyCode) async throws -> SourceKeyList {
        try await client.withConnection { try await Self.keys(of: newsroom, on: $0) }
    }

    static func keys(of newsroom: PartyCode, on connection: PostgresConnection) async throws -> SourceKeyList {
        let keys = try await connection.query(
            """
            SELECT key_id, public_key, registered_at, registered_by, retired_at FROM source_keys
            WHERE newsroom_code = \(newsroom.rawValue) ORDER BY registered_at DESC, key_id
            """
        ).decode((String, [UInt8], Date, String, Date?).self).map { id, key, at, by, retired in
            SourceKeyRecord(keyID: id, publicKey: Base64URL.encode(key), registeredAt: at, registeredBy: by, retiredAt: retired)
        }
        return SourceKeyList(newsroom: newsroom.rawValue, currentKeyID: keys.first { $0.retiredAt == nil }?.keyID, keys: keys)
    }

    /// The envelope under `handle` if it is `newsroom`'s, recording the read in the audit log; nil (and no
    /// record) for any other handle, so a caller cannot tell another newsroom's handle from none.
    public func envelope(_ handle: SourceHandle, of newsroom: PartyCode, readBy actor: String) async throws -> StoredEnvelope? {
        try await client.withTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT e.handle, e.newsroom_code, e.key_id, e.aead, e.enc, e.ciphertext, e.created_at, f.id
                FROM source_envelopes e LEFT JOIN findings f ON f.source_handle = e.handle
                WHERE e.handle = \(handle.rawValue) AND e.newsroom_code = \(newsroom.rawValue)
                """
            ).decode((String, String, String, String, [UInt8], [UInt8], Date, UUID?).self)
            guard let (handle, newsroom, keyID, aead, enc, ciphertext, createdAt, findingID) = rows.first else { return nil }
            try await AuditStore.record([AuditEntry(actor: actor, action: .sourceRead, object: "sources/\(handle)")], on: connection)
            return StoredEnvelope(
                handle: handle, version: SourceEnvelope.version, newsroom: newsroom, keyID: keyID, aead: aead, enc: Base64URL.encode(enc),
                ciphertext: Base64URL.encode(ciphertext), createdAt: createdAt, findingID: findingID?.lowercased)
        }
    }
}
