import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireCore

@Suite("People over HTTP")
struct PeopleHTTPTests {
    static func person(_ party: String = "ubnd-cau-giay", email: String = "an.nv@caugiay.hanoi.gov.vn", role: String = "head") -> String {
        #"{"party_kind":"agency","party":"\#(party)","name":"Nguyễn Văn An","email":"\#(email)","role":"\#(role)","language":"vi"}"#
    }

    @Test func anAdminAddsChangesAndRemovesAPersonAndEveryChangeIsAudited() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { http in
                let admin = fixture.token("admin")
                let added = try await http.send(.post("/v1/people", token: admin, json: Self.person()))
                #expect(added.status == .created)
                let id = try #require(try added.json()["id"] as? String)
                #expect(added.headers[.location] == "/v1/people/\(id)")
                #expect(try added.json()["removed_at"] is NSNull)
                #expect(try added.json()["webhook_url"] is NSNull)

                // The same address twice in one party, an unknown party, a hostile address: refused by name.
                let twice = try await http.send(.post("/v1/people", token: admin, json: Self.person(email: "AN.NV@caugiay.hanoi.gov.vn")))
                #expect(try twice.status == .unprocessableContent && twice.problemFields() == ["email"])
                let nowhere = try await http.send(.post("/v1/people", token: admin, json: Self.person("ubnd-nowhere")))
                #expect(try nowhere.status == .unprocessableContent && nowhere.problemFields() == ["party"])
                let injected = try await http.send(.post("/v1/people", token: admin, json: Self.person(email: #"a@b.vn\r\nBcc: x@y.vn"#)))
                #expect(try injected.status == .unprocessableContent && injected.problemFields() == ["email"])

                let changed = try await http.send(.put("/v1/people/\(id)", token: admin, json: Self.person(role: "duty-officer")))
                #expect(changed.status == .ok)
                #expect(try changed.json()["role"] as? String == "duty-officer")
                let moved = try await http.send(.put("/v1/people/\(id)", token: admin, json: Self.person("so-nnmt")))
                #expect(try moved.status == .unprocessableContent && moved.problemFields() == ["party"], "a person never changes party")

                let list = try await http.send(.get("/v1/people?party_kind=agency&party=ubnd-cau-giay", token: admin))
                #expect(try (list.json()["items"] as? [[String: Any]])?.count == 1)
                let removed = try await http.send(Call(method: .delete, path: "/v1/people/\(id)", token: admin))
                #expect(removed.status == .ok)
                #expect(try removed.json()["removed_at"] as? String != nil)
                #expect(try await http.send(Call(method: .delete, path: "/v1/people/\(id)", token: admin)).status == .notFound)
                #expect(try (await http.send(.get("/v1/people", token: admin)).json()["items"] as? [[String: Any]])?.isEmpty == true)
                let all = try await http.send(.get("/v1/people?removed=true", token: admin))
                #expect(try (all.json()["items"] as? [[String: Any]])?.count == 1, "a removed person stays on record")
                // The address is free again once its person is removed.
                #expect(try await http.send(.post("/v1/people", token: admin, json: Self.person())).status == .created)

                let actions = try await fixture.client.query("SELECT action FROM audit_log WHERE object = \("people/" + id) ORDER BY id")
                    .decodeColumn(
                        String.self)
                #expect(actions == ["person.added", "person.changed", "person.removed"])
                let detail = try await fixture.client.query("SELECT detail::text FROM audit_log WHERE object = \("people/" + id)").decodeColumn(
                    String.self)
                #expect(!detail.joined().contains("caugiay.hanoi.gov.vn"), "the audit log names the person by id, not address")
            }
        }
    }

    @Test func onlyAnAdminManagesPeople() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { http in
                let admin = try await http.send(.get("/v1/people", token: fixture.token("admin")))
                #expect(admin.status == .ok)
                for token in [
                    fixture.token("liaison", "tuoitre"), fixture.token("agency", "ubnd-cau-giay"), fixture.token("coordinator", "thanh-tra-tp"),
                    fixture.token("auditor"),
                ] {
                    #expect(try await http.send(.post("/v1/people", token: token, json: Self.person())).status == .forbidden)
                    #expect(try await http.send(.get("/v1/people", token: token)).status == .forbidden)
                }
                #expect(try await http.send(.get("/v1/people", token: nil)).status == .unauthorized)
                #expect(try await fixture.count("people") == 0)
            }
        }
    }

    /// The database's own wall: a party reads its own people, the admin and the coordinator everyone,
    /// others no one; only the system writes.
    @Test func theServicesRoleReadsOnlyThePeopleItMay() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { http in
                let added = try await http.send(.post("/v1/people", token: fixture.token("admin"), json: Self.person()))
                #expect(added.status == .created)
                let cases: [([String: String], Int)] = [
                    (RowLevelSecurityTests.principal("admin"), 1), (RowLevelSecurityTests.principal("coordinator"), 1),
                    (RowLevelSecurityTests.principal("agency", agency: "ubnd-cau-giay"), 1),
                    (RowLevelSecurityTests.principal("agency", agency: "so-nnmt"), 0),
                    (RowLevelSecurityTests.principal("liaison", newsroom: "tuoitre"), 0), (RowLevelSecurityTests.principal("auditor"), 0), ([:], 0),
                ]
                for (settings, expected) in cases {
                    let seen = try await PostgresContext.$settings.withValue(settings) {
                        try await fixture.service.query("SELECT count(*)::int FROM people")[0].decode(column: 0, as: Int.self)
                    }
                    #expect(seen == expected, "\(settings)")
                }
                // As anyone but the system, an update touches no row: the role stays.
                try await PostgresContext.$settings.withValue(RowLevelSecurityTests.principal("admin")) {
                    try await fixture.service.execute("UPDATE people SET role = 'officer'")
                }
                #expect(try await fixture.client.query("SELECT role FROM people")[0].decode(column: 0, as: String.self) == "head")
            }
        }
    }
}
