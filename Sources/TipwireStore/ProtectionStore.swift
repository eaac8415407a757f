import Foundation
import Postgres
import TipwireCore

/// A protection case as the newsroom, the protecting agency and the coordinator read it. The person's
/// details are only a handle: the envelope goes back to the newsroom alone (`GET /v1/sources/{handle}`).
public struct ProtectionCaseView: Sendable, Codable, Hashable {
    public var id: String
    public var newsroom: String
    public var person: String
    public var retaliation: String
    public var jurisdiction: String
    public var findingID: String?
    public var detailsHandle: String?
    public var protectingAgency: String
    public var openedBy: String
    public var state: String
    public var openedAt: Date
    public var acknowledgeDueAt: Date
    public var acknowledgedAt: Date?
    public var resolveDueAt: Date?
    public var resolvedAt: Date?
    public var outcome: String?
    public var outcomeNote: String?
    /// The rungs the running clock (acknowledge, then resolve) has reached.
    public var ladder: [DisclosureRequestView.LadderRung]
    public var overdueByWorkingDays: Int
    /// Resolved as protected within both clocks; nil while open.
    public var protectedInTime: Bool?

    enum CodingKeys: String, CodingKey {
        case id, newsroom, person, retaliation, jurisdiction, state, outcome, ladder
        case findingID = "finding_id", detailsHandle = "details_handle", protectingAgency = "protecting_agency", openedBy = "opened_by"
        case openedAt = "opened_at", acknowledgeDueAt = "acknowledge_due_at", acknowledgedAt = "acknowledged_at", resolveDueAt = "resolve_due_at"
        case resolvedAt = "resolved_at", outcomeNote = "outcome_note", overdueByWorkingDays = "overdue_by_working_days"
        case protectedInTime = "protected_in_time"
    }

    /// Optional fields are always present, null when unset.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        for (key, value) in [
            (CodingKeys.id, id), (.newsroom, newsroom), (.person, person), (.retaliation, retaliation), (.jurisdiction, jurisdiction),
            (.protectingAgency, protectingAgency), (.openedBy, openedBy), (.state, state),
        ] {
            try container.encode(value, forKey: key)
        }
        for (key, value) in [(CodingKeys.findingID, findingID), (.detailsHandle, detailsHandle), (.outcome, outcome), (.outcomeNote, outcomeNote)] {
            try container.encode(value, forKey: key)
        }
        for (key, value) in [(CodingKeys.acknowledgedAt, acknowledgedAt), (.resolveDueAt, resolveDueAt), (.resolvedAt, resolvedAt)] {
            try container.encode(value, forKey: key)
        }
        try container.encode(openedAt, forKey: .openedAt)
        try container.encode(acknowledgeDueAt, forKey: .acknowledgeDueAt)
        try container.encode(ladder, forKey: .ladder)
        try container.encode(overdueByWorkingDays, forKey: .overdueByWorkingDays)
        try container.encode(protectedInTime, forKey: .protectedInTime)
    }
}

public enum ProtectionOutcomeResult: Sendable {
    case done(ProtectionCaseView)
    case notFound
    case rejected(ValidationFailure)
    /// The case's state does not allow it (already acknowledged, not yet acknowledged, resolved).
    case conflict(String)
}

/// Protection cases (migration 0014): opened by a liaison or an agency, routed to a protecting agency by
/// rule, timed on two clocks (acknowledge, then resolve), every step audited and announced.
public struct ProtectionStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    public func open(
        _ submission: ProtectionSubmission, by opener: FindingScope, actor: String, idempotency: Idempotency<ProtectionOutcomeResult>,
        now: Date = Date()
    ) async throws -> Idempotent<ProtectionOutcomeResult> {
        try await client.withTransaction(idempotency) { connection in
            let newsroom: PartyCode
            let openedBy: (kind: String, code: PartyCode)
            switch opener {
            case .newsroom(let own):
                if let named = submission.newsroom, named != own {
                    return .rejected(ValidationFailure("newsroom", "must be your own newsroom, \(own), or left out"))
                }
                (newsroom, openedBy) = (own, ("newsroom", own))
            case .agency(let agency):
                guard let named = submission.newsroom else {
                    return .rejected(ValidationFailure("newsroom", "is required when an agency opens a case: whose source or journalist is it?"))
                }
                (newsroom, openedBy) = (named, ("agency", agency))
            case .everything:
                return .rejected(ValidationFailure("body", "a coordinator does not open protection cases"))
            }
            let shared = ReferenceData.queries.count
            let results = try await connection.pipeline(
                ReferenceData.queries + [
                    "SELECT jurisdiction_code, agency_code FROM protection_rules",
                    "SELECT 1 FROM newsrooms WHERE code = \(newsroom.rawValue)",
                    "SELECT 1 FROM findings WHERE id = \(submission.findingID) AND newsroom_code = \(newsroom.rawValue)",
                ])
            let reference = try ReferenceData.intake(results[0..<shared])
            var problems: [FieldError] = []
            if reference.jurisdictionParents[submission.jurisdiction] == nil {
                problems.append(FieldError("jurisdiction", "is not a known jurisdiction code"))
            }
            if results[shared + 1].isEmpty { problems.append(FieldError("newsroom", "is not a known newsroom code")) }
            if submission.findingID != nil && results[shared + 2].isEmpty {
                problems.append(FieldError("finding_id", "is not a finding of newsroom \(newsroom)"))
            }
            if let problem = submission.details?.problem(
                from: newsroom, currentKey: reference.currentSourceKeys[newsroom], field: "details_envelope")
            {
                problems.append(problem)
            }
            if !problems.isEmpty { return .rejected(ValidationFailure(problems)) }

            var protectionRules: [PartyCode: PartyCode] = [:]
            for (jurisdiction, agency) in try results[shared].decode((String, String).self) {
                if let jurisdiction = PartyCode(rawValue: jurisdiction), let agency = PartyCode(rawValue: agency) {
                    protectionRules[jurisdiction] = agency
                }
            }
            guard
                let protector = ProtectionRouting.protector(
                    lineage: reference.lineage(of: submission.jurisdiction), rules: protectionRules, fallback: reference.routing.coordinator)
            else {
                throw CorruptRow(description: "no protection rule and no coordinator")
            }
            let deadlines = try await DeadlineRules.load(on: connection)
            let clock = DutyClock(policy: deadlines.policy(.protectionAcknowledge, category: "*"), start: now, calendar: deadlines.calendar)
            let id = UUID.timeOrdered()
            let handle = submission.details.map { _ in SourceHandle() }
            var statements: [PostgresQuery] = []
            if let handle, let details = submission.details { statements.append(Inserts.sourceEnvelopes([(handle, details)])) }
            statements.append(
                """
                INSERT INTO protection_cases (id, opened_by, opened_by_kind, opened_by_code, newsroom_code, person, retaliation, jurisdiction_code,
                    finding_id, details_handle, protecting_agency_code, opened_at, acknowledge_due_at, reminder_percent, step_working_days,
                    next_rung_at)
                VALUES (\(id), \(actor), \(openedBy.kind), \(openedBy.code.rawValue), \(newsroom.rawValue), \(submission.person.rawValue),
                    \(submission.retaliation.rawValue), \(submission.jurisdiction.rawValue), \(submission.findingID), \(handle?.rawValue),
                    \(protector.rawValue), \(now), \(clock.dueAt), \(clock.reminderPercent), \(clock.stepWorkingDays),
                    \(clock.time(ofRung: 0, calendar: deadlines.calendar)))
                """)
            _ = try await connection.pipeline(statements)
            let view = try await Self.load(id, now: now, calendar: deadlines.calendar, on: connection)
            try await Self.record(.protectionOpened, EventType.protectionOpened, view, actor: actor, to: TopicName.tasks(protector), on: connection)
            return .done(view)
        }
    }

    /// The protecting agency takes the case up: its resolve clock starts.
    public func acknowledge(
        _ id: UUID, by agency: PartyCode, actor: String, idempotency: Idempotency<ProtectionOutcomeResult>, now: Date = Date()
    ) async throws -> Idempotent<ProtectionOutcomeResult> {
        try await step(id, by: agency, idempotency: idempotency, now: now) { state, rules, connection in
            guard state == "open" else { return "the case was already acknowledged" }
            let clock = DutyClock(policy: rules.policy(.protectionResolve, category: "*"), start: now, calendar: rules.calendar)
            try await connection.execute(
                """
                UPDATE protection_cases SET state = 'acknowledged', acknowledged_at = \(now), acknowledged_by = \(actor), resolve_due_at = \(clock.dueAt),
                    rungs_announced = 0, next_rung_at = \(clock.time(ofRung: 0, calendar: rules.calendar))
                WHERE id = \(id)
                """)
            return nil
        } announce: { view, connection in
            try await Self.record(
                .protectionAcknowledged, EventType.protectionAcknowledged, view, actor: actor, to: TopicName.requests(try code(view.newsroom)),
                on: connection)
        }
    }

    /// The protecting agency closes the case with its outcome.
    public func resolve(
        _ id: UUID, by agency: PartyCode, outcome: ProtectionOutcome, note: String, actor: String, idempotency: Idempotency<ProtectionOutcomeResult>,
        now: Date = Date()
    ) async throws -> Idempotent<ProtectionOutcomeResult> {
        try await step(id, by: agency, idempotency: idempotency, now: now) { state, _, connection in
            switch state {
            case "open": return "acknowledge the case first"
            case "resolved": return "the case was already resolved"
            default: break
            }
            try await connection.execute(
                """
                UPDATE protection_cases SET state = 'resolved', resolved_at = \(now), resolved_by = \(actor), outcome = \(outcome.rawValue),
                    outcome_note = \(note), next_rung_at = NULL
                WHERE id = \(id)
                """)
            return nil
        } announce: { view, connection in
            try await Self.record(
                .protectionResolved, EventType.protectionResolved, view, actor: actor, to: TopicName.requests(try code(view.newsroom)), on: connection
            )
        }
    }

    /// One step by the protecting agency: `change` returns why the state refuses it, or nil once done.
    private func step(
        _ id: UUID, by agency: PartyCode, idempotency: Idempotency<ProtectionOutcomeResult>, now: Date,
        change: @escaping @Sendable (String, DeadlineRules, PostgresConnection) async throws -> String?,
        announce: @escaping @Sendable (ProtectionCaseView, PostgresConnection) async throws -> Void
    ) async throws -> Idempotent<ProtectionOutcomeResult> {
        try await client.withTransaction(idempotency) { connection in
            let rows = try await connection.query(
                "SELECT state FROM protection_cases WHERE id = \(id) AND protecting_agency_code = \(agency.rawValue) FOR UPDATE")
            guard let state = try rows.firstRow?.decode(column: 0, as: String.self) else { return .notFound }
            let rules = try await DeadlineRules.load(on: connection)
            if let refusal = try await change(state, rules, connection) { return .conflict(refusal) }
            let view = try await Self.load(id, now: now, calendar: rules.calendar, on: connection)
            try await announce(view, connection)
            return .done(view)
        }
    }

    /// The cases `actor` may see, newest first: the newsroom's own, the protecting or opening agency's, or all.
    public func list(for actor: FindingScope, after: PageCursor?, limit: Int, now: Date = Date()) async throws -> Page<ProtectionCaseView> {
        try await client.withConnection { connection in
            let calendar = try await DeadlineRules.load(on: connection).calendar
            let ids = try await connection.query(
                """
                SELECT id FROM protection_cases c WHERE \(fragment: Self.visible(to: actor))
                  AND (\(after?.time)::timestamptz IS NULL OR (opened_at, id) < (\(after?.time), \(after?.id)))
                ORDER BY opened_at DESC, id DESC LIMIT \(limit + 1)
                """
            ).decodeColumn(UUID.self)
            var views: [ProtectionCaseView] = []
            for id in ids { views.append(try await Self.load(id, now: now, calendar: calendar, on: connection)) }
            return Page(rows: views, limit: limit) { ($0.openedAt, $0.id) }
        }
    }

    public func view(_ id: UUID, for actor: FindingScope, now: Date = Date()) async throws -> ProtectionCaseView? {
        try await client.withConnection { connection in
            if try await connection.query("SELECT 1 FROM protection_cases c WHERE id = \(id) AND \(fragment: Self.visible(to: actor))").isEmpty {
                return nil
            }
            return try await Self.load(id, now: now, calendar: try await DeadlineRules.load(on: connection).calendar, on: connection)
        }
    }

    /// The plan's target as figures, over every case.
    public func figure(now: Date = Date()) async throws -> ProtectionFigure {
        let row = try await client.query(
            """
            SELECT count(*), count(*) FILTER (WHERE state <> 'resolved'),
                   count(*) FILTER (WHERE acknowledged_at <= acknowledge_due_at),
                   count(*) FILTER (WHERE outcome = 'protected'),
                   count(*) FILTER (WHERE outcome = 'protected' AND acknowledged_at <= acknowledge_due_at AND resolved_at <= resolve_due_at),
                   count(*) FILTER (WHERE (state = 'open' AND acknowledge_due_at < \(now)) OR (state = 'acknowledged' AND resolve_due_at < \(now)))
            FROM protection_cases
            """)[0]
        let (opened, open, acknowledged, protected, protectedInTime, overdue) = try row.decode((Int, Int, Int, Int, Int, Int).self)
        return ProtectionFigure(
            opened: opened, open: open, acknowledgedInTime: acknowledged, protected: protected, protectedInTime: protectedInTime, overdue: overdue)
    }

    static func visible(to actor: FindingScope) -> PostgresQuery {
        switch actor {
        case .newsroom(let newsroom): "c.newsroom_code = \(newsroom.rawValue)"
        case .agency(let agency):
            "(c.protecting_agency_code = \(agency.rawValue) OR (c.opened_by_kind = 'agency' AND c.opened_by_code = \(agency.rawValue)))"
        case .everything: "true"
        }
    }

    /// A step's audit row and its event, in the step's transaction.
    private static func record(
        _ action: AuditAction, _ type: String, _ view: ProtectionCaseView, actor: String, to topic: String, on connection: PostgresConnection
    ) async throws {
        try await AuditStore.record(
            [
                AuditEntry(
                    actor: actor, action: action, object: "protection-cases/\(view.id)",
                    detail: [
                        "state": .string(view.state), "protecting_agency": .string(view.protectingAgency),
                        "outcome": view.outcome.map(JSONValue.string) ?? .null,
                    ])
            ], on: connection)
        _ = try await connection.pipeline(
            Inserts.outbox([
                OutboundEvent(
                    type: type, subject: "protection-cases/\(view.id)", time: Date(), topic: topic, key: view.id, data: try TipwireJSON.encode(view))
            ]))
    }

    /// The clock running on a case: acknowledge until acknowledged, then resolve.
    static func runningClock(
        openedAt: Date, acknowledgeDue: Date, acknowledgedAt: Date?, resolveDue: Date?, reminderPercent: Int, stepWorkingDays: Int
    ) -> DutyClock {
        if let acknowledgedAt, let resolveDue {
            return DutyClock(startedAt: acknowledgedAt, dueAt: resolveDue, reminderPercent: reminderPercent, stepWorkingDays: stepWorkingDays)
        }
        return DutyClock(startedAt: openedAt, dueAt: acknowledgeDue, reminderPercent: reminderPercent, stepWorkingDays: stepWorkingDays)
    }

    static func runningClock(_ view: ProtectionCaseView, reminderPercent: Int, stepWorkingDays: Int) -> DutyClock {
        runningClock(
            openedAt: view.openedAt, acknowledgeDue: view.acknowledgeDueAt, acknowledgedAt: view.acknowledgedAt, resolveDue: view.resolveDueAt,
            reminderPercent: reminderPercent, stepWorkingDays: stepWorkingDays)
    }

    static func load(_ id: UUID, now: Date, calendar: WorkingCalendar, on connection: PostgresConnection) async throws -> ProtectionCaseView {
        guard
            let row = try await connection.query(
                """
                SELECT id, newsroom_code, person, retaliation, jurisdiction_code, finding_id, details_handle, protecting_agency_code, opened_by, state,
                       opened_at, acknowledge_due_at, acknowledged_at, resolve_due_at, resolved_at, outcome, outcome_note, reminder_percent,
                       step_working_days
                FROM protection_cases WHERE id = \(id)
                """
            ).firstRow
        else { throw CorruptRow(description: "protection case \(id) vanished") }
        let (id, newsroom, person, retaliation, jurisdiction, finding, handle, protector, openedBy, state) =
            try row.decode((UUID, String, String, String, String, UUID?, String?, String, String, String).self)
        let openedAt = try row.decode(column: 10, as: Date.self)
        let acknowledgeDue = try row.decode(column: 11, as: Date.self)
        let acknowledgedAt = try row.decode(column: 12, as: Date?.self)
        let resolveDue = try row.decode(column: 13, as: Date?.self)
        let resolvedAt = try row.decode(column: 14, as: Date?.self)
        let outcome = try row.decode(column: 15, as: String?.self)
        let note = try row.decode(column: 16, as: String?.self)
        let reminder = try row.decode(column: 17, as: Int.self)
        let step = try row.decode(column: 18, as: Int.self)
        let clock = Self.runningClock(
            openedAt: openedAt, acknowledgeDue: acknowledgeDue, acknowledgedAt: acknowledgedAt, resolveDue: resolveDue, reminderPercent: reminder,
            stepWorkingDays: step)
        let until = resolvedAt ?? now
        var inTime: Bool?
        if let outcome {
            inTime = false
            if outcome == ProtectionOutcome.protected.rawValue, let acknowledgedAt, let resolvedAt, let resolveDue {
                inTime = acknowledgedAt <= acknowledgeDue && resolvedAt <= resolveDue
            }
        }
        return ProtectionCaseView(
            id: id.lowercased, newsroom: newsroom, person: person, retaliation: retaliation, jurisdiction: jurisdiction,
            findingID: finding?.lowercased,
            detailsHandle: handle, protectingAgency: protector, openedBy: openedBy, state: state, openedAt: openedAt,
            acknowledgeDueAt: acknowledgeDue,
            acknowledgedAt: acknowledgedAt, resolveDueAt: resolveDue, resolvedAt: resolvedAt, outcome: outcome, outcomeNote: note,
            ladder: clock.rungsReached(by: until, calendar: calendar).map {
                .init(rung: $0.rung.index, kind: $0.rung.kind.rawValue, audience: $0.rung.audience, at: $0.at)
            },
            overdueByWorkingDays: clock.status(at: until, calendar: calendar).overdueByWorkingDays, protectedInTime: inTime)
    }
}

extension EventType {
    public static let protectionOpened = "vn.tipwire.protection.opened.v1"
    public static let protectionAcknowledged = "vn.tipwire.protection.acknowledged.v1"
    public static let protectionResolved = "vn.tipwire.protection.resolved.v1"
}
