import Foundation
import Postgres
import TipwireCore

/// A named officer as stored: who they are, how they are reached, and when they were added, changed
/// and (if ever) removed.
public struct PersonView: Sendable, Codable, Hashable {
    public var id: String
    public var partyKind: String
    public var party: String
    public var name: String
    public var email: String
    public var webhookURL: String?
    public var role: String
    public var language: String
    public var addedAt: Date
    public var updatedAt: Date
    public var removedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, party, name, email, role, language
        case partyKind = "party_kind", webhookURL = "webhook_url", addedAt = "added_at", updatedAt = "updated_at", removedAt = "removed_at"
    }

    /// Every field always present, `null` where absent.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(partyKind, forKey: .partyKind)
        try container.encode(party, forKey: .party)
        try container.encode(name, forKey: .name)
        try container.encode(email, forKey: .email)
        try container.encode(webhookURL, forKey: .webhookURL)
        try container.encode(role, forKey: .role)
        try container.encode(language, forKey: .language)
        try container.encode(addedAt, forKey: .addedAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(removedAt, forKey: .removedAt)
    }
}

/// What became of adding, replacing or removing a person.
public enum PersonOutcome: Sendable {
    case done(PersonView)
    case notFound
    /// The party does not exist, or another person of it already has the address.
    case rejected(ValidationFailure)
}

/// The people of each party (migration 0027): added, replaced and removed by an admin, every change
/// audited. Removing keeps the row, so what was sent to a person stays attributable.
public struct PeopleStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    static let columns = "id, party_kind, party_code, name, email, webhook_url, role, language, added_at, updated_at, removed_at"

    static func view(_ row: PostgresRow) throws -> PersonView {
        let (id, kind, party, name, email, webhook, role, language, added, updated, removed) = try row.decode(
            (UUID, String, String, String, String, String?, String, String, Date, Date, Date?).self)
        return PersonView(
            id: id.lowercased, partyKind: kind, party: party, name: name, email: email, webhookURL: webhook, role: role, language: language,
            addedAt: added, updatedAt: updated, removedAt: removed)
    }

    /// Why `person` cannot be stored beside the others (`except` is the person being replaced), or nil.
    static func conflict(_ person: PersonSubmission, except: UUID?, on connection: PostgresConnection) async throws -> ValidationFailure? {
        let table = person.partyKind == .agency ? "agencies" : "newsrooms"
        let results = try await connection.pipeline([
            "SELECT 1 FROM \(identifier: table) WHERE code = \(person.party.rawValue)",
            """
            SELECT 1 FROM people WHERE party_kind = \(person.partyKind.rawValue) AND party_code = \(person.party.rawValue)
              AND email = \(person.email) AND removed_at IS NULL AND id IS DISTINCT FROM \(except)
            """,
        ])
        if results[0].isEmpty { return ValidationFailure("party", "is not a known \(person.partyKind.rawValue)") }
        if !results[1].isEmpty { return ValidationFailure("email", "already belongs to a person of \(person.party)") }
        return nil
    }

    public func add(_ person: PersonSubmission, by actor: String, at now: Date = Date()) async throws -> PersonOutcome {
        try await Self.unlessTaken(person) {
            try await client.withTransaction { connection in
                if let failure = try await Self.conflict(person, except: nil, on: connection) { return .rejected(failure) }
                let rows = try await connection.query(
                    """
                    INSERT INTO people (id, party_kind, party_code, name, email, webhook_url, role, language, added_at, updated_at)
                    VALUES (\(UUID.timeOrdered()), \(person.partyKind.rawValue), \(person.party.rawValue), \(person.name), \(person.email),
                            \(person.webhookURL), \(person.role.rawValue), \(person.language), \(now), \(now))
                    RETURNING \(unescaped: Self.columns)
                    """)
                let view = try Self.view(rows[0])
                try await AuditStore.record([Self.audit(.personAdded, view, by: actor)], on: connection)
                return .done(view)
            }
        }
    }

    /// `body`, or the address refused when a concurrent change took it first (the unique index's word).
    static func unlessTaken(_ person: PersonSubmission, _ body: () async throws -> PersonOutcome) async throws -> PersonOutcome {
        do {
            return try await body()
        } catch let error as PostgresError where error.sqlState == "23505" {
            return .rejected(ValidationFailure("email", "already belongs to a person of \(person.party)"))
        }
    }

    /// Replaces everything about person `id` but their party, which a person never changes.
    public func replace(_ id: UUID, with person: PersonSubmission, by actor: String, at now: Date = Date()) async throws -> PersonOutcome {
        try await Self.unlessTaken(person) {
            try await client.withTransaction { connection in
                let current = try await connection.query(
                    "SELECT party_kind, party_code FROM people WHERE id = \(id) AND removed_at IS NULL FOR UPDATE"
                ).decode((String, String).self)
                guard let (kind, party) = current.first else { return .notFound }
                if kind != person.partyKind.rawValue || party != person.party.rawValue {
                    return .rejected(ValidationFailure("party", "must stay \(kind) \(party): add a person to the other party instead"))
                }
                if let failure = try await Self.conflict(person, except: id, on: connection) { return .rejected(failure) }
                let rows = try await connection.query(
                    """
                    UPDATE people SET name = \(person.name), email = \(person.email), webhook_url = \(person.webhookURL),
                        role = \(person.role.rawValue), language = \(person.language), updated_at = \(now)
                    WHERE id = \(id) RETURNING \(unescaped: Self.columns)
                    """)
                let view = try Self.view(rows[0])
                try await AuditStore.record([Self.audit(.personChanged, view, by: actor)], on: connection)
                return .done(view)
            }
        }
    }

    /// Marks person `id` removed: they hear nothing more, and what they were sent stays theirs.
    public func remove(_ id: UUID, by actor: String, at now: Date = Date()) async throws -> PersonOutcome {
        try await client.withTransaction { connection in
            let rows = try await connection.query(
                """
                UPDATE people SET removed_at = \(now), updated_at = \(now) WHERE id = \(id) AND removed_at IS NULL
                RETURNING \(unescaped: Self.columns)
                """)
            guard let row = rows.first else { return .notFound }
            let view = try Self.view(row)
            try await AuditStore.record([Self.audit(.personRemoved, view, by: actor)], on: connection)
            return .done(view)
        }
    }

    /// The people of one party, or of every party, by party then name; removed ones only when asked.
    public func list(partyKind: PersonSubmission.PartyKind? = nil, party: PartyCode? = nil, includingRemoved: Bool = false) async throws
        -> [PersonView]
    {
        try await client.query(
            """
            SELECT \(unescaped: Self.columns) FROM people
            WHERE (\(partyKind?.rawValue)::text IS NULL OR party_kind = \(partyKind?.rawValue))
              AND (\(party?.rawValue)::text IS NULL OR party_code = \(party?.rawValue))
              AND (\(includingRemoved) OR removed_at IS NULL)
            ORDER BY party_kind, party_code, name, id
            """
        ).map(Self.view)
    }

    public func find(_ id: UUID) async throws -> PersonView? {
        try await client.query("SELECT \(unescaped: Self.columns) FROM people WHERE id = \(id)").first.map(Self.view)
    }

    /// An audit entry naming the person by id, party and role: never their address or name.
    static func audit(_ action: AuditAction, _ view: PersonView, by actor: String) -> AuditEntry {
        AuditEntry(
            actor: actor, action: action, object: "people/\(view.id)",
            detail: ["party": .string("\(view.partyKind):\(view.party)"), "role": .string(view.role)])
    }
}
