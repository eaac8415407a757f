import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireCore

/// Disclosure requests and protection cases from pages: the procuracy files a request with its letter
/// and the newsroom contests it; the newsroom asks for protection and the police acknowledge and resolve.
@Suite("Disclosure requests and protection cases on pages")
struct DisclosureProtectionPagesTests {
    @Test func theProcuracyFilesARequestOnceAndTheNewsroomContestsIt() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                let handle = try await DisclosureHTTPTests.sealedFinding(client, fixture)
                var procuracy = Browser()
                #expect(try await procuracy.signIn(client, token: fixture.token("agency", "vks-tp")))
                let fields = [
                    ("source_handle", handle), ("legal_basis", "press-law-2025"), ("crime_class", "very-serious"),
                    ("case_reference", "Vụ án 12/2026/HS"), ("dated", "2026-11-30"),
                ]
                let letter = ("written_request", "cong-van.pdf", "application/pdf", DisclosureHTTPTests.letter)
                let page = try await procuracy.get(client, "/inbox/disclosures/new?lang=en").text
                #expect(page.contains("press-law-2016") && page.contains("press-law-2025"), "every basis, for the letter's date to decide")
                let (action, key) = try RequestPagesTests.multipartForm("/inbox/disclosures", on: page)
                // A form without its letter comes back naming it, and files nothing.
                let missing = try await DeskTests.post(&procuracy, client, action, DeskTests.multipart(fields + [("key", key)], files: []))
                #expect(missing.status == .unprocessableContent)
                #expect(missing.text.contains("id=\"file-written_request-error\""))
                var location = ""
                for _ in 0..<2 {
                    let filed = try await DeskTests.post(&procuracy, client, action, DeskTests.multipart(fields + [("key", key)], files: [letter]))
                    #expect(filed.status == .seeOther)
                    location = filed.headers[.location] ?? ""
                }
                #expect(try await fixture.count("disclosure_requests") == 1, "a form sent twice files once")
                let id = String(location.dropFirst("/inbox/disclosures/".count).prefix { $0 != "?" })
                #expect(try await procuracy.get(client, "/inbox/disclosures").text.contains("href=\"/inbox/disclosures/\(id)\""))

                // A department is not entitled under any basis: the page says why, beside the basis.
                var department = Browser()
                #expect(try await department.signIn(client, token: fixture.token("agency", "so-nnmt")))
                let other = try RequestPagesTests.multipartForm(
                    "/inbox/disclosures", on: try await department.get(client, "/inbox/disclosures/new").text)
                let refused = try await DeskTests.post(
                    &department, client, other.action, DeskTests.multipart(fields + [("key", other.key)], files: [letter]))
                #expect(refused.status == .forbidden)
                #expect(refused.text.contains("id=\"file-legal_basis-error\""))
                #expect(try await fixture.count("disclosure_requests") == 1)

                var liaison = Browser()
                #expect(try await liaison.signIn(client, token: fixture.token("liaison", "tuoitre")))
                #expect(try await liaison.get(client, "/desk/disclosures").text.contains("href=\"/desk/disclosures/\(id)\""))
                let request = try await liaison.get(client, "/desk/disclosures/\(id)?lang=en").text
                #expect(request.contains("Vụ án 12/2026/HS") && request.contains("Awaiting the newsroom"))
                let download = try await liaison.get(client, "/desk/disclosures/\(id)/letter")
                #expect(download.status == .ok && download.body == DisclosureHTTPTests.letter)
                let path = "/desk/disclosures/\(id)/decision"
                let csrf = try #require(InboxTests.hidden("csrf", inFormFor: path, request))
                let formKey = try #require(InboxTests.hidden("key", inFormFor: path, request))
                let blank = try await liaison.post(client, path, form: ["csrf": csrf, "key": formKey, "decision": "contest", "reason": " "])
                #expect(blank.status == .unprocessableContent && blank.text.contains("id=\"decide-reason-error\""))
                let decided = try await liaison.post(
                    client, path, form: ["csrf": csrf, "key": formKey, "decision": "contest", "reason": "Văn bản không nêu tội danh cụ thể"])
                #expect(decided.status == .seeOther)
                let after = try await liaison.get(client, "/desk/disclosures/\(id)?lang=en").text
                #expect(after.contains("Contested") && !after.contains("action=\"\(path)\""))
                let state = try await fixture.client.query("SELECT state FROM disclosure_requests")[0].decode(column: 0, as: String.self)
                #expect(state == "contested")

                // Only the two sides see it.
                var vnexpress = Browser()
                #expect(try await vnexpress.signIn(client, token: fixture.token("liaison", "vnexpress")))
                #expect(try await vnexpress.get(client, "/desk/disclosures/\(id)").status == .notFound)
                #expect(try await vnexpress.get(client, "/desk/disclosures/\(id)/letter").status == .notFound)
                #expect(try await department.get(client, "/inbox/disclosures/\(id)").status == .notFound)
            }
        }
    }

    @Test func theNewsroomAsksForProtectionAndThePoliceAcknowledgeAndResolve() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                var liaison = Browser()
                #expect(try await liaison.signIn(client, token: fixture.token("liaison", "tuoitre")))
                let page = try await liaison.get(client, "/desk/protection/new").text
                let (action, key) = try RequestPagesTests.multipartForm("/desk/protection", on: page)
                let fields = [("person", "source"), ("retaliation", "threat"), ("jurisdiction", "cau-giay"), ("finding_id", ""), ("key", key)]
                let opened = try await DeskTests.post(&liaison, client, action, DeskTests.multipart(fields, files: []))
                #expect(opened.status == .seeOther)
                let location = try #require(opened.headers[.location])
                let id = String(location.dropFirst("/desk/protection/".count).prefix { $0 != "?" })
                let agency = try await fixture.client.query("SELECT protecting_agency_code FROM protection_cases")[0].decode(
                    column: 0, as: String.self)
                #expect(agency == "cong-an-tp")

                var police = Browser()
                #expect(try await police.signIn(client, token: fixture.token("agency", "cong-an-tp")))
                #expect(try await police.get(client, "/inbox/protection").text.contains("href=\"/inbox/protection/\(id)\""))
                let open = try await police.get(client, "/inbox/protection/\(id)").text
                let acknowledgePath = "/inbox/protection/\(id)/acknowledge"
                let csrf = try #require(InboxTests.hidden("csrf", inFormFor: acknowledgePath, open))
                let acknowledged = try await police.post(
                    client, acknowledgePath, form: ["csrf": csrf, "key": try #require(InboxTests.hidden("key", inFormFor: acknowledgePath, open))])
                #expect(acknowledged.status == .seeOther)
                let resolvePath = "/inbox/protection/\(id)/resolve"
                let acknowledgedPage = try await police.get(client, "/inbox/protection/\(id)").text
                let resolveKey = try #require(InboxTests.hidden("key", inFormFor: resolvePath, acknowledgedPage))
                let blank = try await police.post(client, resolvePath, form: ["csrf": csrf, "key": resolveKey, "outcome": "protected", "note": ""])
                #expect(blank.status == .unprocessableContent && blank.text.contains("id=\"resolve-note-error\""))
                let resolved = try await police.post(
                    client, resolvePath, form: ["csrf": csrf, "key": resolveKey, "outcome": "protected", "note": "Đã bố trí lực lượng bảo vệ"])
                #expect(resolved.status == .seeOther)

                let followed = try await liaison.get(client, "/desk/protection/\(id)?lang=en").text
                #expect(followed.contains("Resolved") && followed.contains("Đã bố trí lực lượng bảo vệ"))
                // Another agency sees nothing, and cannot act.
                var ward = Browser()
                #expect(try await ward.signIn(client, token: fixture.token("agency", "ubnd-cau-giay")))
                #expect(try await ward.get(client, "/inbox/protection/\(id)").status == .notFound)
                let wardCSRF = try #require(Browser.csrf(try await ward.get(client, "/inbox/protection").text))
                #expect(try await ward.post(client, acknowledgePath, form: ["csrf": wardCSRF, "key": UUID().uuidString]).status == .notFound)
            }
        }
    }
}
