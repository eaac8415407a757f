import Foundation
import HummingbirdTesting
import Postgres
import TestSupport
import Testing
import TipwireCore
import TipwireStore

/// The database's own wall: the service's role, queried directly with SQL (no handler, no store, no
/// application check), reads only what the principal in the session settings may read, and nothing
/// when none is set.
@Suite("Row-level security")
struct RowLevelSecurityTests {
    static let tables = [
        "findings", "tasks", "finding_documents", "documents", "info_requests", "source_envelopes", "disclosure_requests", "protection_cases",
    ]

    static func counts(_ fixture: Fixture, as settings: [String: String]) async throws -> [String: Int] {
        try await PostgresContext.$settings.withValue(settings) {
            var counts: [String: Int] = [:]
            for table in Self.tables {
                counts[table] = try await fixture.service.query("SELECT count(*) FROM \(identifier: table)")[0].decode(column: 0, as: Int.self)
            }
            return counts
        }
    }

    static func principal(_ role: String, newsroom: String = "", agency: String = "") -> [String: String] {
        ["tipwire.role": role, "tipwire.newsroom": newsroom, "tipwire.agency": agency]
    }

    @Test func theServicesRoleReadsOnlyThePrincipalsRowsAndNothingWithoutOne() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { http in
                _ = try await AuthorizationMatrixTests.makeWorld(http, fixture)
                var owner: [String: Int] = [:]
                for table in Self.tables { owner[table] = try await fixture.count(table) }
                #expect(owner.values.allSatisfy { $0 > 0 }, "\(owner)")

                #expect(try await Self.counts(fixture, as: [:]).values.allSatisfy { $0 == 0 })
                #expect(try await Self.counts(fixture, as: Self.principal("auditor")).values.allSatisfy { $0 == 0 })
                #expect(try await Self.counts(fixture, as: Self.principal("system")) == owner)

                let coordinator = try await Self.counts(fixture, as: Self.principal("coordinator"))
                #expect(coordinator["findings"] == owner["findings"] && coordinator["tasks"] == owner["tasks"])
                #expect(coordinator["source_envelopes"] == 0 && coordinator["disclosure_requests"] == 0)

                let own = try await Self.counts(fixture, as: Self.principal("liaison", newsroom: "tuoitre"))
                #expect(own == owner, "tuoitre holds every row of this world")
                let other = try await Self.counts(fixture, as: Self.principal("liaison", newsroom: "vnexpress"))
                #expect(other.values.allSatisfy { $0 == 0 }, "\(other)")

                let department = try await Self.counts(fixture, as: Self.principal("agency", agency: "so-nnmt"))
                #expect(department["findings"] == 1 && department["tasks"] == 1 && department["documents"] == 1 && department["info_requests"] == 1)
                #expect(department["source_envelopes"] == 0 && department["disclosure_requests"] == 0 && department["protection_cases"] == 0)
                let stranger = try await Self.counts(fixture, as: Self.principal("agency", agency: "so-xay-dung"))
                #expect(stranger.values.allSatisfy { $0 == 0 }, "\(stranger)")
                let procuracy = try await Self.counts(fixture, as: Self.principal("agency", agency: "vks-tp"))
                #expect(procuracy["disclosure_requests"] == 1 && procuracy["findings"] == 0 && procuracy["source_envelopes"] == 0)
                let police = try await Self.counts(fixture, as: Self.principal("agency", agency: "cong-an-tp"))
                #expect(police["protection_cases"] == 1 && police["findings"] == 0)
            }
        }
    }

    @Test func withoutAPrincipalTheServicesRoleCannotWriteEither() async throws {
        try await Fixture.with { fixture in
            let refused = try await #require(throws: PostgresError.self) {
                try await PostgresContext.$settings.withValue([:]) {
                    try await fixture.service.execute(
                        """
                        INSERT INTO findings (id, newsroom_code, article_url, title, published_at, summary, category_code, jurisdiction_code)
                        VALUES (gen_random_uuid(), 'tuoitre', 'https://a.vn/x', 't', now(), 's', 'land', 'cau-giay')
                        """)
                }
            }
            #expect(refused.sqlState == "42501" && refused.message.contains("row-level security"), "\(refused)")
        }
    }

    /// A connection leased as one principal and then as another carries only the second's settings.
    @Test func aPooledConnectionNeverKeepsTheLastCallersScope() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { http in
                _ = try await AuthorizationMatrixTests.makeWorld(http, fixture)
                for _ in 0..<3 {
                    #expect(try await Self.counts(fixture, as: Self.principal("liaison", newsroom: "tuoitre"))["findings"] == 1)
                    #expect(try await Self.counts(fixture, as: [:])["findings"] == 0)
                    #expect(try await Self.counts(fixture, as: ["tipwire.role": "liaison"])["findings"] == 0)
                }
            }
        }
    }
}
