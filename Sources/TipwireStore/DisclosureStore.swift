import Crypto
import Foundation
import Postgres
import TipwireCore

/// A disclosure request as its two sides read it: the requesting agency and the newsroom whose source it
/// names. Never the source, which the server does not have.
public struct DisclosureRequestView: Sendable, Codable, Hashable {
    public struct WrittenRequest: Sendable, Codable, Hashable {
        public var sha256: String
        public var size: Int
        public var mediaType: String

        enum CodingKeys: String, CodingKey {
            case sha256, size
            case mediaType = "media_type"
        }
    }

    public struct LadderRung: Sendable, Codable, Hashable {
        public var rung: Int
        public var kind: String
        public var audience: String
        public var at: Date
    }

    public struct Decision: Sendable, Codable, Hashable {
        public var decision: String
        public var reason: String
        public var decidedBy: String
        public var decidedAt: Date

        enum CodingKeys: String, CodingKey {
            case decision, reason
            case decidedBy = "decided_by", decidedAt = "decided_at"
        }
    }

    public var id: String
    public var sourceHandle: String
    public var newsroom: String
    public var agency: String
    public var requestedBy: String
    public var legalBasis: String
    public var citation: String
    public var crimeClass: String
    public var caseReference: String
    public var dated: String
    public var writtenRequest: WrittenRequest
    public var state: String
    public var startedAt: Date
    public var dueAt: Date
    /// The rungs of the escalation ladder the request has reached while open (reminder, overdue, …).
    public var ladder: [LadderRung]
    public var overdueByWorkingDays: Int
    public var decision: Decision?

    enum CodingKeys: String, CodingKey {
        case id, newsroom, agency, citation, dated, state, ladder, decision
        case sourceHandle = "source_handle", requestedBy = "requested_by", legalBasis = "legal_basis", crimeClass = "crime_class"
        case caseReference = "case_reference", writtenRequest = "written_request", startedAt = "started_at", dueAt = "due_at"
        case overdueByWorkingDays = "overdue_by_working_days"
    }

    /// `decision` is always present, null while open.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        for (key, value) in [
            (CodingKeys.id, id), (.sourceHandle, sourceHandle), (.newsroom, newsroom), (.agency, agency), (.requestedBy, requestedBy),
            (.legalBasis, legalBasis), (.citation, citation), (.crimeClass, crimeClass), (.caseReference, caseReference), (.dated, dated),
            (.state, state),
        ] {
            try container.encode(value, forKey: key)
        }
        try container.encode(writtenRequest, forKey: .writtenRequest)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(dueAt, forKey: .dueAt)
        try container.encode(ladder, forKey: .ladder)
        try container.encode(overdueByWorkingDays, forKey: .overdueByWorkingDays)
        try container.encode(decision, forKey: .decision)
    }
}

public enum DisclosureFiling: Sendable {
    case filed(DisclosureRequestView)
    /// The requester does not qualify under the basis on the request's date: why, for a 403.
    case notQualified(String)
    /// No such legal basis: the codes there are.
    case unknownBasis([String])
    /// No envelope has that handle.
    case noSuchSource
}

public enum DisclosureDecisionOutcome: Sendable {
    case decided(DisclosureRequestView)
    /// Not a request of the deciding newsroom, or none at all.
    case notFound
    /// Already decided: the decision stands.
    case alreadyDecided(DisclosureRequestView)
}

/// Disclosure requests (migration 0013): filed by agencies that qualify under a legal basis in force on
/// the request's date, decided once by the newsroom, every step audited and announced to the other side.
public struct DisclosureStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    /// Files a request, as one transaction with its idempotency record: a retry gets the stored answer.
    public func file(
        _ submission: DisclosureSubmission, by agency: PartyCode, actor: String, idempotency: Idempotency<DisclosureFiling>, now: Date = Date()
    ) async throws -> Idempotent<DisclosureFiling> {
        try await client.withTransaction(idempotency) { connection in
            let results = try await connection.pipeline([
                "SELECT code, kind, level FROM agencies WHERE code = \(agency.rawValue)",
                """
                SELECT code, citation, requester_kinds, minimum_level, crime_classes, in_force_from::text, in_force_until::text
                FROM legal_bases ORDER BY code
                """,
                // The agency cannot read the envelope (row-level security); it learns only whose it is.
                "SELECT newsroom FROM source_envelope_newsroom(\(submission.sourceHandle)) AS newsroom WHERE newsroom IS NOT NULL",
            ])
            guard let agencyRow = results[0].firstRow else { return .notQualified("agency \(agency) is not known") }
            let (agencyCode, kind, level) = try agencyRow.decode((String, String, String).self)
            let standing = AgencyStanding(code: try code(agencyCode), kind: kind, level: GovernmentLevel(rawValue: level) ?? .commune)
            let bases = try results[1].decode((String, String, [String], String, [String], String, String?).self).map(Self.basis)
            guard let basis = bases.first(where: { $0.code == submission.legalBasis }) else { return .unknownBasis(bases.map(\.code)) }
            if let refusal = basis.refusal(for: standing, crimeClass: submission.crimeClass, dated: submission.dated) {
                return .notQualified(refusal)
            }
            guard let newsroomText = try results[2].firstRow?.decode(column: 0, as: String.self) else { return .noSuchSource }
            let newsroom = try code(newsroomText)

            let rules = try await DeadlineRules.load(on: connection)
            let clock = DutyClock(policy: rules.policy(.disclosureDecision, category: "*"), start: now, calendar: rules.calendar)
            let id = UUID.timeOrdered()
            let digest = Array(SHA256.hash(data: submission.writtenRequest))
            let mediaType = MediaTypeSniffer.sniff(submission.writtenRequest, declared: submission.writtenRequestType)
            _ = try await connection.pipeline([
                """
                INSERT INTO document_blobs (sha256, size, content) VALUES (\(digest), \(submission.writtenRequest.count), \(submission.writtenRequest))
                ON CONFLICT DO NOTHING
                """,
                """
                INSERT INTO disclosure_requests (id, source_handle, newsroom_code, agency_code, requested_by, legal_basis_code, crime_class,
                    case_reference, dated, written_request_sha256, written_request_type, started_at, due_at, reminder_percent, step_working_days,
                    next_rung_at)
                VALUES (\(id), \(submission.sourceHandle), \(newsroom.rawValue), \(agency.rawValue), \(actor), \(basis.code),
                    \(submission.crimeClass.rawValue), \(submission.caseReference), \(submission.dated.description)::date, \(digest), \(mediaType),
                    \(clock.startedAt), \(clock.dueAt), \(clock.reminderPercent), \(clock.stepWorkingDays),
                    \(clock.time(ofRung: 0, calendar: rules.calendar)))
                """,
            ])
            let view = try await Self.load(id, now: now, calendar: rules.calendar, on: connection)
            try await AuditStore.record(
                [
                    AuditEntry(
                        actor: actor, action: .disclosureRequested, object: "disclosure-requests/\(view.id)",
                        detail: [
                            "source_handle": .string(view.sourceHandle), "legal_basis": .string(basis.code), "crime_class": .string(view.crimeClass),
                            "case_reference": .string(view.caseReference), "newsroom": .string(view.newsroom),
                        ])
                ], on: connection)
            try await Self.announce(EventType.disclosureRequested, view, to: TopicName.requests(newsroom), at: now, on: connection)
            return .filed(view)
        }
    }

    /// Records the newsroom's decision, once.
    public func decide(
        _ id: UUID, newsroom: PartyCode, decision: DisclosureDecision, reason: String, actor: String,
        idempotency: Idempotency<DisclosureDecisionOutcome>, now: Date = Date()
    ) async throws -> Idempotent<DisclosureDecisionOutcome> {
        try await client.withTransaction(idempotency) { connection in
            let rows = try await connection.query(
                "SELECT state FROM disclosure_requests WHERE id = \(id) AND newsroom_code = \(newsroom.rawValue) FOR UPDATE")
            guard let state = try rows.firstRow?.decode(column: 0, as: String.self) else { return .notFound }
            let calendar = try await DeadlineRules.load(on: connection).calendar
            if state != "open" { return .alreadyDecided(try await Self.load(id, now: now, calendar: calendar, on: connection)) }
            try await connection.execute(
                """
                UPDATE disclosure_requests SET state = \(decision.state), decision_reason = \(reason), decided_by = \(actor), decided_at = \(now),
                    next_rung_at = NULL
                WHERE id = \(id)
                """)
            let view = try await Self.load(id, now: now, calendar: calendar, on: connection)
            try await AuditStore.record(
                [
                    AuditEntry(
                        actor: actor, action: .disclosureDecided, object: "disclosure-requests/\(view.id)",
                        detail: ["decision": .string(decision.rawValue), "agency": .string(view.agency)])
                ], on: connection)
            try await Self.announce(EventType.disclosureDecided, view, to: TopicName.tasks(try code(view.agency)), at: now, on: connection)
            return .decided(view)
        }
    }

    /// The requests `principal` may see: its newsroom's (liaison) or its own agency's (agency), newest first.
    public func list(for principal: Principal, after: PageCursor?, limit: Int, now: Date = Date()) async throws -> Page<DisclosureRequestView> {
        guard let scope = Self.scope(principal) else { return Page(rows: [], limit: limit) { ($0.startedAt, $0.id) } }
        return try await client.withConnection { connection in
            let calendar = try await DeadlineRules.load(on: connection).calendar
            let ids = try await connection.query(
                """
                SELECT id FROM disclosure_requests
                WHERE (\(scope.newsroom)::text IS NULL OR newsroom_code = \(scope.newsroom)) AND (\(scope.agency)::text IS NULL OR agency_code = \(scope.agency))
                  AND (\(after?.time)::timestamptz IS NULL OR (started_at, id) < (\(after?.time), \(after?.id)))
                ORDER BY started_at DESC, id DESC LIMIT \(limit + 1)
                """
            ).decodeColumn(UUID.self)
            var views: [DisclosureRequestView] = []
            for id in ids { views.append(try await Self.load(id, now: now, calendar: calendar, on: connection)) }
            return Page(rows: views, limit: limit) { ($0.startedAt, $0.id) }
        }
    }

    /// One request, if `principal` is one of its two sides.
    public func view(_ id: UUID, for principal: Principal, now: Date = Date()) async throws -> DisclosureRequestView? {
        guard let scope = Self.scope(principal) else { return nil }
        return try await client.withConnection { connection in
            let visible = try await connection.query(
                """
                SELECT 1 FROM disclosure_requests WHERE id = \(id)
                  AND (\(scope.newsroom)::text IS NULL OR newsroom_code = \(scope.newsroom)) AND (\(scope.agency)::text IS NULL OR agency_code = \(scope.agency))
                """)
            if visible.isEmpty { return nil }
            return try await Self.load(id, now: now, calendar: try await DeadlineRules.load(on: connection).calendar, on: connection)
        }
    }

    /// The written request's bytes for one of the request's two sides, recording the read.
    public func writtenRequest(_ id: UUID, for principal: Principal) async throws -> (bytes: [UInt8], mediaType: String)? {
        guard let scope = Self.scope(principal) else { return nil }
        return try await client.withTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT b.content, d.written_request_type FROM disclosure_requests d JOIN document_blobs b ON b.sha256 = d.written_request_sha256
                WHERE d.id = \(id)
                  AND (\(scope.newsroom)::text IS NULL OR d.newsroom_code = \(scope.newsroom)) AND (\(scope.agency)::text IS NULL OR d.agency_code = \(scope.agency))
                """)
            guard let row = rows.firstRow else { return nil }
            let (bytes, mediaType) = try row.decode(([UInt8], String).self)
            try await AuditStore.record(
                [
                    AuditEntry(
                        actor: principal.actor, action: .documentRead, object: "disclosure-requests/\(id.lowercased)/written-request",
                        detail: ["from": .number(0), "bytes": .number(Double(bytes.count))])
                ], on: connection)
            return (bytes, mediaType)
        }
    }

    private static func scope(_ principal: Principal) -> FindingScope? {
        switch principal.role {
        case .liaison, .agency: FindingScope(principal)
        case .coordinator, .auditor, .admin: nil
        }
    }

    static func basis(
        _ row: (code: String, citation: String, kinds: [String], level: String, classes: [String], from: String, until: String?)
    ) throws -> LegalBasis {
        guard let from = CalendarDay(row.from) else { throw CorruptRow(description: "legal basis \(row.code): in_force_from \(row.from)") }
        return LegalBasis(
            code: row.code, citation: row.citation, requesterKinds: row.kinds, minimumLevel: GovernmentLevel(rawValue: row.level) ?? .central,
            crimeClasses: row.classes.compactMap(CrimeClass.init(rawValue:)), inForceFrom: from, inForceUntil: row.until.flatMap(CalendarDay.init))
    }

    static func load(_ id: UUID, now: Date, calendar: WorkingCalendar, on connection: PostgresConnection) async throws -> DisclosureRequestView {
        guard
            let row = try await connection.query(
                """
                SELECT d.id, d.source_handle, d.newsroom_code, d.agency_code, d.requested_by, d.legal_basis_code, l.citation, d.crime_class,
                       d.case_reference, d.dated::text, encode(d.written_request_sha256, 'hex'), b.size, d.written_request_type, d.state,
                       d.started_at, d.due_at, d.reminder_percent, d.step_working_days, d.decision_reason, d.decided_by, d.decided_at
                FROM disclosure_requests d JOIN legal_bases l ON l.code = d.legal_basis_code
                JOIN document_blobs b ON b.sha256 = d.written_request_sha256 WHERE d.id = \(id)
                """
            ).firstRow
        else { throw CorruptRow(description: "disclosure request \(id) vanished") }
        let (id, handle, newsroom, agency, requestedBy, basis, citation, crimeClass, caseReference, dated) =
            try row.decode((UUID, String, String, String, String, String, String, String, String, String).self)
        let sha256 = try row.decode(column: 10, as: String.self)
        let size = try row.decode(column: 11, as: Int.self)
        let mediaType = try row.decode(column: 12, as: String.self)
        let state = try row.decode(column: 13, as: String.self)
        let clock = DutyClock(
            startedAt: try row.decode(column: 14, as: Date.self), dueAt: try row.decode(column: 15, as: Date.self),
            reminderPercent: try row.decode(column: 16, as: Int.self), stepWorkingDays: try row.decode(column: 17, as: Int.self))
        let reason = try row.decode(column: 18, as: String?.self)
        let decidedBy = try row.decode(column: 19, as: String?.self)
        let decidedAt = try row.decode(column: 20, as: Date?.self)
        // The ladder climbs only while the newsroom has not decided.
        let until = decidedAt ?? now
        var decision: DisclosureRequestView.Decision?
        if let reason, let decidedBy, let decidedAt {
            decision = DisclosureRequestView.Decision(decision: Self.decisionName(state), reason: reason, decidedBy: decidedBy, decidedAt: decidedAt)
        }
        return DisclosureRequestView(
            id: id.lowercased, sourceHandle: handle, newsroom: newsroom, agency: agency, requestedBy: requestedBy, legalBasis: basis,
            citation: citation, crimeClass: crimeClass, caseReference: caseReference, dated: dated,
            writtenRequest: .init(sha256: sha256, size: size, mediaType: mediaType), state: state, startedAt: clock.startedAt, dueAt: clock.dueAt,
            ladder: clock.rungsReached(by: until, calendar: calendar).map {
                .init(rung: $0.rung.index, kind: $0.rung.kind.rawValue, audience: $0.rung.audience, at: $0.at)
            },
            overdueByWorkingDays: clock.status(at: until, calendar: calendar).overdueByWorkingDays, decision: decision)
    }

    private static func decisionName(_ state: String) -> String {
        DisclosureDecision.allCases.first { $0.state == state }?.rawValue ?? state
    }

    static func announce(_ type: String, _ view: DisclosureRequestView, to topic: String, at now: Date, on connection: PostgresConnection)
        async throws
    {
        _ = try await connection.pipeline(
            Inserts.outbox([
                OutboundEvent(
                    type: type, subject: "disclosure-requests/\(view.id)", time: now, topic: topic, key: view.id, data: try TipwireJSON.encode(view))
            ]))
    }
}

extension EventType {
    public static let disclosureRequested = "vn.tipwire.disclosure.requested.v1"
    public static let disclosureDecided = "vn.tipwire.disclosure.decided.v1"
}
