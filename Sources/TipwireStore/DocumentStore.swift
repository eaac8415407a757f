import Crypto
import Foundation
import Postgres
import TipwireCore

/// A stored document as the API describes it.
public struct DocumentRecord: Sendable, Hashable, Codable {
    public var id: String
    public var sha256: String
    public var size: Int
    public var mediaType: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, sha256, size
        case mediaType = "media_type", createdAt = "created_at"
    }
}

/// A stored document, and whether this upload created it (the same bytes uploaded before give the same document).
public struct StoredDocument: Sendable {
    public var record: DocumentRecord
    public var created: Bool
}

/// Documents: bytes stored once per SHA-256, each newsroom holding its own handle on them.
public struct DocumentStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// Stores `bytes` for `newsroom`. Uploading the same bytes again returns the same document.
    public func store(
        newsroom: PartyCode, bytes: [UInt8], declaredType: String?, idempotency: Idempotency<StoredDocument>
    ) async throws -> Idempotent<StoredDocument> {
        let digest = Array(SHA256.hash(data: bytes))
        let mediaType = MediaTypeSniffer.sniff(bytes, declared: declaredType)
        let id = UUID.timeOrdered()
        return try await client.withTransaction(idempotency) { connection in
            try await store(newsroom: newsroom, bytes: bytes, digest: digest, mediaType: mediaType, id: id, on: connection)
        }
    }

    private func store(newsroom: PartyCode, bytes: [UInt8], digest: [UInt8], mediaType: String, id: UUID, on connection: PostgresConnection)
        async throws
        -> StoredDocument
    {
        let results = try await connection.pipeline([
            "INSERT INTO document_blobs (sha256, size, content) VALUES (\(digest), \(bytes.count), \(bytes)) ON CONFLICT DO NOTHING",
            """
            INSERT INTO documents (id, newsroom_code, sha256, media_type) VALUES (\(id), \(newsroom.rawValue), \(digest), \(mediaType))
            ON CONFLICT (newsroom_code, sha256) DO NOTHING
            """,
            "SELECT id, media_type, created_at FROM documents WHERE newsroom_code = \(newsroom.rawValue) AND sha256 = \(digest)",
        ])
        let (storedID, storedType, createdAt) = try results[2][0].decode((UUID, String, Date).self)
        let record = DocumentRecord(
            id: storedID.lowercased, sha256: Hex.encode(digest), size: bytes.count, mediaType: storedType, createdAt: createdAt)
        return StoredDocument(record: record, created: storedID == id)
    }

    /// The document if `principal` may read it: its newsroom; an agency it was given to (with a finding it
    /// holds a task on that was not transferred away, or in answer to that task's own request); the
    /// coordinator. Everyone else gets nil, exactly as for an id that does not exist.
    public func describe(id: UUID, for principal: Principal) async throws -> DocumentRecord? {
        let columns =
            "SELECT d.id, encode(d.sha256, 'hex'), b.size, d.media_type, d.created_at FROM documents d JOIN document_blobs b ON b.sha256 = d.sha256"
        let query: PostgresQuery
        switch FindingScope(principal) {
        case .newsroom(let newsroom)?:
            query = "\(unescaped: columns) WHERE d.id = \(id) AND d.newsroom_code = \(newsroom.rawValue)"
        case .agency(let agency)?:
            query = """
                \(unescaped: columns) WHERE d.id = \(id) AND EXISTS (
                    SELECT 1 FROM finding_documents fd JOIN tasks t ON t.finding_id = fd.finding_id
                    WHERE fd.document_id = d.id AND t.agency_code = \(agency.rawValue) AND t.state <> 'transferred'
                      AND (fd.given_to_task IS NULL OR fd.given_to_task = t.id))
                """
        case .everything?:
            query = "\(unescaped: columns) WHERE d.id = \(id)"
        case nil:
            return nil
        }
        guard let row = try await client.query(query).firstRow else { return nil }
        let (storedID, sha256, size, mediaType, createdAt) = try row.decode((UUID, String, Int, String, Date).self)
        return DocumentRecord(id: storedID.lowercased, sha256: sha256, size: size, mediaType: mediaType, createdAt: createdAt)
    }

    /// `length` bytes of a document's content from `offset` (already authorised through `describe`).
    public func content(sha256: String, offset: Int, length: Int) async throws -> [UInt8] {
        let rows = try await client.query(
            "SELECT substring(content FROM \(offset + 1)::int FOR \(length)::int) FROM document_blobs WHERE sha256 = decode(\(sha256), 'hex')")
        return try rows.firstRow?.decode(column: 0, as: [UInt8].self) ?? []
    }
}
