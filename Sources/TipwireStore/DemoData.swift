import Postgres
import TipwireCore

/// The demo world `tipwire demo seed` creates: two newsrooms, Hanoi's agencies in the plan, routing
/// rules between them, and one token per principal. Safe to run twice: existing rows are kept.
public enum DemoData {
    public static let newsrooms: [(code: String, name: String)] = [
        ("tuoitre", "Báo Tuổi Trẻ"),
        ("vnexpress", "Báo điện tử VnExpress"),
    ]

    public static let jurisdictions: [(code: String, name: String, parent: String?)] = [
        ("ha-noi", "Thành phố Hà Nội", nil),
        ("cau-giay", "Phường Cầu Giấy", "ha-noi"),
        ("dong-da", "Phường Đống Đa", "ha-noi"),
    ]

    /// The City Inspectorate supervises the departments and ward People's Committees for anti-corruption
    /// purposes, so it is their parent: findings naming one of them also reach it.
    public static let agencies: [(code: String, name: String, kind: String, parent: String?, jurisdiction: String, coordinator: Bool)] = [
        ("thanh-tra-tp", "Thanh tra Thành phố Hà Nội (City Inspectorate)", "inspectorate", nil, "ha-noi", true),
        ("so-nnmt", "Sở Nông nghiệp và Môi trường (Department of Agriculture and Environment)", "department", "thanh-tra-tp", "ha-noi", false),
        ("so-xay-dung", "Sở Xây dựng (Department of Construction)", "department", "thanh-tra-tp", "ha-noi", false),
        ("ubnd-cau-giay", "UBND phường Cầu Giấy (People's Committee of Cầu Giấy ward)", "people-committee", "thanh-tra-tp", "cau-giay", false),
        ("ubnd-dong-da", "UBND phường Đống Đa (People's Committee of Đống Đa ward)", "people-committee", "thanh-tra-tp", "dong-da", false),
        ("cong-an-tp", "Công an Thành phố Hà Nội (City Police)", "police", nil, "ha-noi", false),
        ("vks-tp", "Viện kiểm sát nhân dân Thành phố Hà Nội (City People's Procuracy)", "procuracy", nil, "ha-noi", false),
    ]

    /// (category or nil for any, jurisdiction or nil for any, agency or nil for the subject's supervisor).
    /// A city-wide rule (`ha-noi`) covers every ward; categories without a rule go to the coordinator's queue.
    public static let rules: [(category: String?, jurisdiction: String?, agency: String?)] = [
        ("land", "ha-noi", "so-nnmt"),
        ("land", "cau-giay", "ubnd-cau-giay"),
        ("land", "dong-da", "ubnd-dong-da"),
        ("construction", "ha-noi", "so-xay-dung"),
        ("construction", "cau-giay", "ubnd-cau-giay"),
        ("construction", "dong-da", "ubnd-dong-da"),
        ("procurement", "ha-noi", "thanh-tra-tp"),
        ("budget", "ha-noi", "thanh-tra-tp"),
        ("personnel", "ha-noi", "thanh-tra-tp"),
        (nil, nil, nil),
    ]

    /// Creates the parties and rules (keeping rows that exist).
    public static func seedParties(_ client: PostgresClient) async throws {
        try await client.withTransaction { connection in
            for newsroom in newsrooms {
                try await connection.execute("INSERT INTO newsrooms (code, name) VALUES (\(newsroom.code), \(newsroom.name)) ON CONFLICT DO NOTHING")
            }
            for jurisdiction in jurisdictions {
                try await connection.execute(
                    """
                    INSERT INTO jurisdictions (code, name, parent_code) VALUES (\(jurisdiction.code), \(jurisdiction.name), \(jurisdiction.parent))
                    ON CONFLICT DO NOTHING
                    """)
            }
            // Parents first: the coordinator heads the list.
            for agency in agencies {
                try await connection.execute(
                    """
                    INSERT INTO agencies (code, name, kind, parent_code, jurisdiction_code, is_coordinator, joined_at, level)
                    SELECT \(agency.code), \(agency.name), \(agency.kind), \(agency.parent), \(agency.jurisdiction), \(agency.coordinator),
                           '2025-07-01T00:00:00+07:00', CASE WHEN j.parent_code IS NULL THEN 'provincial' ELSE 'commune' END
                    FROM jurisdictions j WHERE j.code = \(agency.jurisdiction)
                    ON CONFLICT DO NOTHING
                    """)
            }
            for rule in rules {
                try await connection.execute(
                    """
                    INSERT INTO routing_rules (category_code, jurisdiction_code, target, agency_code)
                    VALUES (\(rule.category), \(rule.jurisdiction), \(rule.agency == nil ? "subject-supervisor" : "agency"), \(rule.agency))
                    ON CONFLICT DO NOTHING
                    """)
            }
            // The City Police protect sources and journalists across the city.
            try await connection.execute(
                "INSERT INTO protection_rules (jurisdiction_code, agency_code) VALUES ('ha-noi', 'cong-an-tp') ON CONFLICT DO NOTHING")
        }
    }

    /// One token per principal, named as `.tipwire/env` lists them: `TIPWIRE_TOKEN_<ROLE>_<CODE>`.
    public static func createTokens(_ tokens: TokenStore) async throws -> [(name: String, token: BearerToken)] {
        var created: [(String, BearerToken)] = []
        func make(_ role: Role, _ scope: String?) async throws {
            let code = scope.flatMap(PartyCode.init)
            let holder = "Cán bộ demo \(scope ?? role.rawValue)"
            let (token, _) = try await tokens.create(role: role, scope: code, holder: holder, label: "demo")
            let suffix = code.map { "_\($0.environmentName)" } ?? ""
            created.append(("TIPWIRE_TOKEN_\(role.rawValue.uppercased())\(suffix)", token))
        }
        for newsroom in newsrooms { try await make(.liaison, newsroom.code) }
        for agency in agencies { try await make(.agency, agency.code) }
        for agency in agencies where agency.coordinator { try await make(.coordinator, agency.code) }
        try await make(.auditor, nil)
        try await make(.admin, nil)
        return created
    }
}
