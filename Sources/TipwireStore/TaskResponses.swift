import Foundation
import Postgres
import TipwireCore

/// A response an agency sent over Kafka, already parsed.
public struct AgencyResponse: Sendable {
    public var ceID: String
    public var ceType: String
    public var agency: PartyCode
    public var taskID: UUID
    public var action: TaskAction
    /// Where it was read: topic, partition, offset.
    public var topic: String
    public var partition: Int32
    public var offset: Int64

    public init(ceID: String, ceType: String, agency: PartyCode, taskID: UUID, action: TaskAction, topic: String, partition: Int32, offset: Int64) {
        self.ceID = ceID
        self.ceType = ceType
        self.agency = agency
        self.taskID = taskID
        self.action = action
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

public enum ResponseOutcome: Sendable, Equatable {
    case applied
    /// The ce_id was applied before: nothing done.
    case duplicate
    /// No task with that id is held by the topic's agency (whether it exists elsewhere is not said).
    case unknownTask
    /// No open question to the agency has that id (an answer over Kafka).
    case unknownRequest
    case rejected(TaskRejection)
    case conflict(String)
    /// The database refused it for good; the reason is the server's message.
    case refused(String)
}

extension TaskStore {
    /// Applies a Kafka response in one transaction with its deduplication record.
    public func apply(_ response: AgencyResponse) async throws -> ResponseOutcome {
        try await apply([response])[0]
    }

    /// Applies responses in order in one shared transaction (one commit for the batch), each with its
    /// deduplication record. If the shared transaction fails as a whole (a concurrent duplicate, a
    /// constraint), every response is retried in a transaction of its own, so one cannot fail the others.
    public func apply(_ responses: [AgencyResponse]) async throws -> [ResponseOutcome] {
        if responses.isEmpty { return [] }
        do {
            return try await client.withTransaction { connection in try await apply(responses, on: connection) }
        } catch let error as PostgresError where !error.isConnectionFailure && responses.count > 1 {
            var outcomes: [ResponseOutcome] = []
            for response in responses { outcomes.append(try await apply([response])[0]) }
            return outcomes
        } catch let error as PostgresError where error.violates(Constraint.oneOpenTaskPerAgency) {
            return [.conflict(Self.oneOpenTaskPerAgencyConflict)]
        } catch let error as PostgresError where error.violates(Constraint.appliedResponse) {
            return [.duplicate]
        } catch let error as PostgresError where !error.isTransient {
            // The database refuses this response for good (e.g. a NUL byte in a text field): retrying would stall the partition.
            return [.refused(error.message)]
        }
    }

    /// Plans the responses in order against the locked tasks (a task's later response sees its earlier
    /// one), then writes them all at once with their ce_id records.
    private func apply(_ responses: [AgencyResponse], on connection: PostgresConnection) async throws -> [ResponseOutcome] {
        // Only tasks some responding agency holds are locked; the rest read as unknown.
        var tasks = try await Self.lock(responses.map { ($0.taskID, $0.agency) }, on: connection)
        let agencies = try await Self.knownAgencies(for: responses.map(\.action), on: connection)
        let rules = try await DeadlineRules.load(on: connection)
        var seen = Set<String>()
        for (agency, ceID) in try await connection.query(
            """
            SELECT a.agency_code, a.ce_id FROM applied_responses a
            JOIN unnest(\(responses.map(\.agency.rawValue))::text[], \(responses.map(\.ceID))::text[]) AS r(agency, ce_id)
              ON a.agency_code = r.agency AND a.ce_id = r.ce_id
            """
        ).decode((String, String).self) {
            seen.insert(agency + "\u{0}" + ceID)
        }
        let now = Date()
        var outcomes: [ResponseOutcome] = []
        var changes: [Change] = []
        var applied: [AgencyResponse] = []
        for response in responses {
            guard seen.insert(response.agency.rawValue + "\u{0}" + response.ceID).inserted else {
                outcomes.append(.duplicate)
                continue
            }
            // A task the topic's agency does not hold reads exactly like one that does not exist, so a
            // topic's reader cannot probe which task ids exist.
            guard let task = tasks[response.taskID], task.snapshot.agency == response.agency else {
                outcomes.append(.unknownTask)
                continue
            }
            let planned = Self.plan(
                response.action, on: task, by: .agency(response.agency), actorName: "agency:\(response.agency)", policies: rules.policies,
                eventKind: nil,
                agencies: agencies, at: now)
            switch planned {
            case .success(let change):
                changes.append(change)
                applied.append(response)
                tasks[response.taskID]?.snapshot.state = change.transition.to
                tasks[response.taskID]?.snapshot.extensions = change.transition.extensions
                outcomes.append(.applied)
            case .failure(.rejected(let rejection)): outcomes.append(.rejected(rejection))
            case .failure(.conflict(let detail)): outcomes.append(.conflict(detail))
            case .failure(.notFound): outcomes.append(.unknownTask)
            }
        }
        try await write(changes, rules: rules, on: connection)
        if !applied.isEmpty {
            try await connection.execute(
                """
                INSERT INTO applied_responses (agency_code, ce_id, ce_type, task_id, kafka_topic, kafka_partition, kafka_offset)
                SELECT * FROM unnest(\(applied.map(\.agency.rawValue))::text[], \(applied.map(\.ceID))::text[], \(applied.map(\.ceType))::text[],
                                     \(applied.map(\.taskID))::uuid[], \(applied.map(\.topic))::text[], \(applied.map { Int($0.partition) })::int[],
                                     \(applied.map(\.offset))::bigint[])
                """)
        }
        return outcomes
    }
}
