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
        let rows = try await connection.query(
            """
            SELECT category_code, stage, amount, unit, max_extensions, reminder_percent, ladder_step_working_days, legal_basis
            FROM deadline_policies ORDER BY category_code NULLS FIRST, stage
            """)
        return try rows.decode((String?, String, Int, String, Int, Int, Int, String).self).compactMap { category, stage, amount, unit, extensions, reminder, step, basis in
            guard let stage = DeadlineStage(rawValue: stage), let unit = DeadlineUnit(rawValue: unit) else { return nil }
            return DeadlinePolicy(
                category: category, stage: stage, amount: amount, unit: unit, maxExtensions: extensions, reminderPercent: reminder,
                ladderStepWorkingDays: step, legalBasis: basis)
        }
    }
}
