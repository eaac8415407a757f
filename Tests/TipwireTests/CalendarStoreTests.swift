import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireCore
import TipwireStore

@Suite("The working-day calendar in the database", .timeLimit(.minutes(2)))
struct CalendarStoreTests {
    @Test func theSeededCalendarKnowsTet2026AndAnImportChangesItAllOrNothing() async throws {
        try await Fixture.with { fixture in
            let store = CalendarStore(client: fixture.client)
            let calendar = try await store.load()
            let delivered = parseTimestamp("2026-02-13T16:00:00+07:00")!
            #expect(calendar.adding(workingDays: 7, to: delivered) == parseTimestamp("2026-03-04T00:00:00+07:00")!)
            #expect(calendar.isWorkingDay(CalendarDay("2026-08-22")!))
            #expect(!calendar.isWorkingDay(CalendarDay("2025-01-27")!))

            // A day moves from holiday to working when the file says so; a bad file imports nothing.
            let entries = try CalendarFile.parse("date,kind,name\n2027-02-05,working,Làm việc\n2027-12-31,holiday,Nghỉ thử\n")
            let counts = try await store.importEntries(entries)
            #expect(counts == (1, 1))
            let updated = try await store.load()
            #expect(updated.isWorkingDay(CalendarDay("2027-02-05")!))
            #expect(!updated.isWorkingDay(CalendarDay("2027-12-31")!))
            #expect(try await store.entries(year: 2027).contains { $0.day == CalendarDay("2027-12-31")! && $0.kind == .holiday })
        }
    }

    @Test func aBadCalendarFileNamesEveryBadLine() {
        do {
            _ = try CalendarFile.parse(
                "2026-02-30,holiday,x\n2026-03-01,rest,x\n2026-03-02,holiday\n2026-03-03,holiday,ok\n2026-03-03,working,again\n")
            Issue.record("a bad file was accepted")
        } catch {
            #expect(error.errors.map(\.field) == ["line 1", "line 2", "line 3", "line 5"])
        }
    }

    @Test func theSeededPoliciesAreTheDefaultsAndAnyoneWithATokenMayReadThem() async throws {
        try await Fixture.with { fixture in
            let policies = try await PolicyStore(client: fixture.client).all()
            #expect(policies.count == DeadlineStage.allCases.count)
            for policy in policies {
                var expected = DeadlinePolicy.default(for: policy.stage)
                expected.legalBasis = policy.legalBasis
                #expect(policy == expected, "\(policy.stage)")
            }
            try await fixture.app().test(.router) { client in
                let reply = try await client.send(.get("/v1/policies", token: fixture.token("liaison", "tuoitre")))
                #expect(reply.status == .ok)
                let items = try #require(try reply.json()["items"] as? [[String: Any]])
                #expect(items.count == DeadlineStage.allCases.count)
                #expect(items.allSatisfy { $0.keys.contains("category") })
                #expect(try await client.send(.get("/v1/policies", token: nil)).status == .unauthorized)
            }
        }
    }
}
