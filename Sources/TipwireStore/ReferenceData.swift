import Postgres
import TipwireCore

/// The small tables routing and validation read: categories, jurisdictions, agencies, rules and the
/// newsrooms' current source keys.
/// Loaded inside the transaction that uses them, so a commit never routes by stale rules.
enum ReferenceData {
    static let queries: [PostgresQuery] =
        ([
            "SELECT code FROM categories",
            "SELECT code, parent_code FROM jurisdictions",
            "SELECT code, parent_code, is_coordinator FROM agencies",
            "SELECT category_code, jurisdiction_code, target, agency_code FROM routing_rules ORDER BY id",
            "SELECT newsroom_code, key_id FROM source_keys WHERE retired_at IS NULL",
        ] as [PostgresQuery]).map { $0.prepared() }

    /// What intake needs, from the rows of `queries`.
    static func intake(_ results: ArraySlice<PostgresRows>) throws -> IntakeReference {
        let results = Array(results)
        let categories = Set(try results[0].decodeColumn(String.self))
        var parents: [PartyCode: PartyCode?] = [:]
        for (code, parent) in try results[1].decode((String, String?).self) {
            // updateValue, not a subscript: assigning a nil parent through the subscript would remove the city itself.
            if let code = PartyCode(rawValue: code) { parents.updateValue(parent.flatMap(PartyCode.init), forKey: code) }
        }
        let agencies = try results[2].decode((String, String?, Bool).self).compactMap { code, parent, coordinator in
            PartyCode(rawValue: code).map { AgencyNode(code: $0, parent: parent.flatMap(PartyCode.init), isCoordinator: coordinator) }
        }
        let rules = try results[3].decode((String?, String?, String, String?).self).compactMap {
            category, jurisdiction, target, agency -> RoutingRule? in
            let ruleTarget: RoutingRule.Target
            if target == "agency" {
                guard let agency = agency.flatMap(PartyCode.init) else { return nil }
                ruleTarget = .agency(agency)
            } else {
                ruleTarget = .subjectSupervisor
            }
            return RoutingRule(category: category, jurisdiction: jurisdiction.flatMap(PartyCode.init), target: ruleTarget)
        }
        var sourceKeys: [PartyCode: SourceKeyID] = [:]
        for (newsroom, keyID) in try results[4].decode((String, String).self) {
            if let newsroom = PartyCode(rawValue: newsroom), let keyID = SourceKeyID(rawValue: keyID) { sourceKeys[newsroom] = keyID }
        }
        return IntakeReference(
            categories: categories, jurisdictionParents: parents, routing: RoutingTable(rules: rules, agencies: agencies),
            currentSourceKeys: sourceKeys)
    }
}

extension ReferenceData {
    /// Every agency's code.
    static func agencyCodes(on connection: PostgresConnection) async throws -> [PartyCode] {
        try await connection.query("SELECT code FROM agencies ORDER BY code").decodeColumn(String.self).compactMap(PartyCode.init(rawValue:))
    }
}

extension TipwireDatabase {
    /// Every agency's code (the response consumer creates each one's topics).
    public func agencyCodes() async throws -> [PartyCode] {
        try await client.withConnection { try await ReferenceData.agencyCodes(on: $0) }
    }

    /// Every newsroom's code (provisioning grants each its requests topic).
    public func newsroomCodes() async throws -> [PartyCode] {
        try await client.withConnection { connection in
            try await connection.query("SELECT code FROM newsrooms ORDER BY code").decodeColumn(String.self).compactMap(PartyCode.init(rawValue:))
        }
    }
}

/// What a finding's submission form offers to choose from.
public struct SubmissionChoices: Sendable {
    public var categories: [String]
    public var jurisdictions: [PartyCode]
    public var agencies: [PartyCode]
}

extension TipwireDatabase {
    /// The categories, jurisdictions and agencies a finding may name, in code order.
    public func submissionChoices() async throws -> SubmissionChoices {
        let results = try await client.withConnection { connection in
            try await connection.pipeline([
                "SELECT code FROM categories ORDER BY code", "SELECT code FROM jurisdictions ORDER BY code",
                "SELECT code FROM agencies ORDER BY code",
            ])
        }
        return SubmissionChoices(
            categories: try results[0].decodeColumn(String.self), jurisdictions: try results[1].decodeColumn(String.self).compactMap(PartyCode.init),
            agencies: try results[2].decodeColumn(String.self).compactMap(PartyCode.init))
    }
}

extension TipwireDatabase {
    /// Every legal basis a disclosure request may cite, in code order. Which one applies is the letter's
    /// date's business (a basis no longer in force still covers a letter dated while it was).
    public func legalBasisCodes() async throws -> [String] {
        try await client.query("SELECT code FROM legal_bases ORDER BY code").decodeColumn(String.self)
    }
}
