import Foundation
import Postgres
import TipwireCore

/// The rungs disclosure requests and protection cases reach while undecided, announced once each by the
/// deadline engine (migration 0016): to the holder's topic (the newsroom for a disclosure request, the
/// protecting agency for a case), and from the overdue notice on to `tipwire.escalations` as well.
public enum LadderStore {
    /// Announces every rung due by `now`; returns how many.
    public static func announceDue(at now: Date, calendar: WorkingCalendar, on client: PostgresClient) async throws -> Int {
        try await client.withTransaction { connection in
            var announced = 0
            let disclosures = try await connection.query(
                """
                SELECT id, rungs_announced, started_at, due_at, reminder_percent, step_working_days FROM disclosure_requests
                WHERE next_rung_at <= \(now) ORDER BY next_rung_at LIMIT 500 FOR UPDATE SKIP LOCKED
                """
            ).decode((UUID, Int, Date, Date, Int, Int).self)
            for (id, done, started, due, percent, step) in disclosures {
                let view = try await DisclosureStore.load(id, now: now, calendar: calendar, on: connection)
                let rungs = Array(view.ladder.dropFirst(done))
                try await announce(
                    rungs, holder: .newsroom(try code(view.newsroom)), type: EventType.disclosureRung, subject: "disclosure-requests/\(view.id)",
                    key: view.id, at: now, payload: { LadderEvent(rung: $0, name: "disclosure_request", value: view) }, on: connection)
                let clock = DutyClock(startedAt: started, dueAt: due, reminderPercent: percent, stepWorkingDays: step)
                try await connection.execute(
                    """
                    UPDATE disclosure_requests SET rungs_announced = \(view.ladder.count),
                        next_rung_at = \(clock.time(ofRung: view.ladder.count, calendar: calendar))
                    WHERE id = \(id)
                    """)
                announced += rungs.count
            }
            let cases = try await connection.query(
                """
                SELECT id, rungs_announced, reminder_percent, step_working_days FROM protection_cases WHERE next_rung_at <= \(now)
                ORDER BY next_rung_at LIMIT 500 FOR UPDATE SKIP LOCKED
                """
            ).decode((UUID, Int, Int, Int).self)
            for (id, done, percent, step) in cases {
                let view = try await ProtectionStore.load(id, now: now, calendar: calendar, on: connection)
                let rungs = Array(view.ladder.dropFirst(done))
                try await announce(
                    rungs, holder: .agency(try code(view.protectingAgency)), type: EventType.protectionRung, subject: "protection-cases/\(view.id)",
                    key: view.id, at: now, payload: { LadderEvent(rung: $0, name: "protection_case", value: view) }, on: connection)
                let clock = ProtectionStore.runningClock(view, reminderPercent: percent, stepWorkingDays: step)
                try await connection.execute(
                    """
                    UPDATE protection_cases SET rungs_announced = \(view.ladder.count),
                        next_rung_at = \(clock.time(ofRung: view.ladder.count, calendar: calendar))
                    WHERE id = \(id)
                    """)
                announced += rungs.count
            }
            return announced
        }
    }

    private static func announce<Value: Encodable & Sendable>(
        _ rungs: [DisclosureRequestView.LadderRung], holder: DutyHolder, type: String, subject: String, key: String, at now: Date,
        payload: (DisclosureRequestView.LadderRung) -> LadderEvent<Value>, on connection: PostgresConnection
    ) async throws {
        var events: [OutboundEvent] = []
        for rung in rungs {
            guard let ladderRung = EscalationLadder.rung(rung.rung) else { continue }
            let data = try TipwireJSON.encode(payload(rung))
            for topic in ladderRung.topics(for: holder) {
                events.append(OutboundEvent(type: type, subject: subject, time: now, topic: topic, key: key, data: data))
            }
        }
        if !events.isEmpty { _ = try await connection.pipeline(Inserts.outbox(events)) }
    }
}

/// A rung event's data: `{"rung": {…}, "<name>": <the request or case as it stands>}`.
struct LadderEvent<Value: Encodable & Sendable>: Encodable, Sendable {
    var rung: DisclosureRequestView.LadderRung
    var name: String
    var value: Value

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(rung, forKey: Key("rung"))
        try container.encode(value, forKey: Key(name))
    }
}

extension EventType {
    public static let disclosureRung = "vn.tipwire.disclosure.rung.v1"
    public static let protectionRung = "vn.tipwire.protection.rung.v1"
}
