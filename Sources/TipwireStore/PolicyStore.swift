import Foundation
import Postgres
import TipwireCore

/// The `deadline_policies` table.
public struct PolicyStore: Sendable {
    let client: PostgresClient

    public init(client: PostgresClient) { self.client = client }

    public func all() async throws -> [DeadlinePolicy] {
        try await client.withConnection { try await Self.load(on: $0) }
    }

    static func load(on connection: PostgresConnection) async throws -> [DeadlinePolicy] {
        try decode(try await connection.query(query))
    }

    static let query: PostgresQuery = """
        SELECT category_code, stage, amount, unit, max_extensions, reminder_percent, ladder_step_working_days, legal_basis
        FROM deadline_policies ORDER BY category_code NULLS FIRST, stage
        """

    static func decode(_ rows: PostgresRows) throws -> [DeadlinePolicy] {
        try rows.decode((String?, String, Int, String, Int, Int, Int, String).self).compactMap {
            category, stage, amount, unit, extensions, reminder, step, basis in
            guard let stage = DeadlineStage(rawValue: stage), let unit = DeadlineUnit(rawValue: unit) else { return nil }
            return DeadlinePolicy(
                category: category, stage: stage, amount: amount, unit: unit, maxExtensions: extensions, reminderPercent: reminder,
                ladderStepWorkingDays: step, legalBasis: basis)
        }
    }
}

extension PolicyStore {
    /// The policy in force for exactly this category (nil: the default) and stage, if the table has one.
    public func find(category: String?, stage: DeadlineStage) async throws -> DeadlinePolicy? {
        try await all().first { $0.category == category && $0.stage == stage }
    }

    /// Adds or replaces a policy. Running clocks keep the times they started with; new clocks use this.
    /// Nil when the category does not exist.
    public func save(_ policy: DeadlinePolicy, by actor: String) async throws -> DeadlinePolicy? {
        if let category = policy.category,
            try await client.query("SELECT 1 FROM categories WHERE code = \(category)").isEmpty
        {
            return nil
        }
        return try await client.withTransaction { connection in
            try await Self.write(policy, on: connection)
            let detail = try JSONDecoder().decode(JSONValue.self, from: Data(try TipwireJSON.encode(policy)))
            let object = "policies/\(policy.category ?? "default")/\(policy.stage.rawValue)"
            try await AuditStore.record(
                [AuditEntry(actor: actor, action: .policyChanged, object: object, detail: ["policy": detail])], on: connection)
            return policy
        }
    }

    private static func write(_ policy: DeadlinePolicy, on connection: PostgresConnection) async throws {
        try await connection.execute(
            """
            INSERT INTO deadline_policies (category_code, stage, amount, unit, max_extensions, reminder_percent, ladder_step_working_days, legal_basis)
            VALUES (\(policy.category), \(policy.stage.rawValue), \(policy.amount), \(policy.unit.rawValue), \(policy.maxExtensions), \(policy.reminderPercent),
                    \(policy.ladderStepWorkingDays), \(policy.legalBasis))
            ON CONFLICT (coalesce(category_code, '*'), stage) DO UPDATE SET
                amount = excluded.amount, unit = excluded.unit, max_extensions = excluded.max_extensions, reminder_percent = excluded.reminder_percent,
                ladder_step_working_days = excluded.ladder_step_working_days, legal_basis = excluded.legal_basis, updated_at = now()
            """)
    }
}
