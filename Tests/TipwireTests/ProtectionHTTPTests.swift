import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import Testing
import TipwireCore
import TipwireStore

@Suite("Protection cases over HTTP")
struct ProtectionHTTPTests {
    static let tuoitre = PartyCode(rawValue: "tuoitre")!

    @Test func aCaseIsRoutedToThePoliceAcknowledgedResolvedAndCountedAsProtectedInTime() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { http in
                let liaison = fixture.token("liaison", "tuoitre")
                let key = SourcePrivateKey(newsroom: Self.tuoitre)
                #expect(
                    try await http.send(.put("/v1/newsrooms/tuoitre/source-keys", token: liaison, json: SourceEnvelopeHTTPTests.keyJSON(key))).status
                        == .created)
                let details = try SourceEnvelope.seal(Array("Phóng viên Lê Văn D bị đe doạ qua điện thoại".utf8), to: key.publicKey)
                let opened = try await http.send(
                    .post(
                        "/v1/protection-cases", token: liaison,
                        json:
                            #"{"person":"journalist","retaliation":"threat","jurisdiction":"cau-giay","details_envelope":\#(try SourceEnvelopeHTTPTests.envelopeJSON(details))}"#
                    ))
                #expect(opened.status == .created, "\(opened.text)")
                let body = try opened.json()
                let id = try #require(body["id"] as? String)
                #expect(body["protecting_agency"] as? String == "cong-an-tp" && body["state"] as? String == "open")
                let handle = try #require(body["details_handle"] as? String)
                #expect(!opened.text.contains(Base64URL.encode(details.ciphertext)))
                // The details open for the newsroom alone, like a source envelope.
                let fetched = try await http.send(.get("/v1/sources/\(handle)", token: liaison))
                #expect(try fetched.status == .ok && fetched.json()["finding_id"] is NSNull, "\(fetched.text)")
                #expect(try await http.send(.get("/v1/sources/\(handle)", token: fixture.token("agency", "cong-an-tp"))).status == .notFound)
                let announced = try await fixture.client.query(
                    "SELECT topic FROM outbox WHERE ce_type = \(EventType.protectionOpened)"
                ).decodeColumn(String.self)
                #expect(announced == ["tipwire.tasks.cong-an-tp"])

                let police = fixture.token("agency", "cong-an-tp")
                let early = try await http.send(
                    .post("/v1/protection-cases/\(id)/resolve", token: police, json: #"{"outcome":"protected","note":"x"}"#))
                #expect(early.status == .conflict && early.text.contains("acknowledge the case first"), "\(early.text)")
                #expect(
                    try await http.send(.post("/v1/protection-cases/\(id)/acknowledge", token: fixture.token("agency", "so-nnmt"), json: "{}")).status
                        == .notFound)
                let acknowledged = try await http.send(.post("/v1/protection-cases/\(id)/acknowledge", token: police, json: "{}"))
                #expect(
                    try acknowledged.status == .ok && acknowledged.json()["state"] as? String == "acknowledged"
                        && acknowledged.json()["resolve_due_at"] is String)
                #expect(try await http.send(.post("/v1/protection-cases/\(id)/acknowledge", token: police, json: "{}")).status == .conflict)
                let resolved = try await http.send(
                    .post("/v1/protection-cases/\(id)/resolve", token: police, json: #"{"outcome":"protected","note":"Bố trí lực lượng bảo vệ"}"#))
                #expect(try resolved.status == .ok && resolved.json()["protected_in_time"] as? Bool == true, "\(resolved.text)")
                #expect(
                    try await http.send(.post("/v1/protection-cases/\(id)/resolve", token: police, json: #"{"outcome":"withdrawn","note":"x"}"#))
                        .status == .conflict)

                let figure = try await http.send(.get("/v1/protection-figure", token: fixture.token("coordinator", "thanh-tra-tp"))).json()
                #expect(figure["opened"] as? Int == 1 && figure["protected_in_time"] as? Int == 1 && figure["overdue"] as? Int == 0)
                #expect(figure["protected_in_time_percent"] as? Double == 100)
                let newsroomEvents = try await fixture.client.query(
                    "SELECT ce_type FROM outbox WHERE topic = 'tipwire.requests.tuoitre' AND ce_type LIKE 'vn.tipwire.protection.%' ORDER BY ce_type"
                ).decodeColumn(String.self)
                #expect(newsroomEvents == [EventType.protectionAcknowledged, EventType.protectionResolved])
                let audited = try await fixture.stores.audit.list(AuditFilter()).items.map(\.action).filter { $0.hasPrefix("protection.") }
                #expect(audited == ["protection.resolved", "protection.acknowledged", "protection.opened"])
                #expect(try await http.send(.get("/v1/protection-cases/\(id)", token: fixture.token("liaison", "vnexpress"))).status == .notFound)
            }
        }
    }

    @Test func anAgencyOpensACaseForANewsroomAndAnUnacknowledgedOneGoesOverdue() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { http in
                let ward = fixture.token("agency", "ubnd-cau-giay")
                let unnamed = try await http.send(
                    .post("/v1/protection-cases", token: ward, json: #"{"person":"source","retaliation":"dismissal","jurisdiction":"cau-giay"}"#))
                #expect(try unnamed.status == .unprocessableContent && unnamed.problemFields() == ["newsroom"])
                let opened = try await http.send(
                    .post(
                        "/v1/protection-cases", token: ward,
                        json: #"{"person":"source","retaliation":"dismissal","jurisdiction":"cau-giay","newsroom":"tuoitre"}"#))
                #expect(opened.status == .created, "\(opened.text)")
                let id = try #require(try opened.json()["id"] as? String)
                // The opening agency follows its case; the newsroom sees it too.
                #expect(try await http.send(.get("/v1/protection-cases/\(id)", token: ward)).status == .ok)
                #expect(try await http.send(.get("/v1/protection-cases/\(id)", token: fixture.token("liaison", "tuoitre"))).status == .ok)
                // Three days unacknowledged: overdue, its ladder climbed.
                try await fixture.client.execute(
                    "UPDATE protection_cases SET opened_at = opened_at - interval '3 days', acknowledge_due_at = acknowledge_due_at - interval '3 days'"
                )
                let late = try await http.send(.get("/v1/protection-cases/\(id)", token: ward)).json()
                #expect((late["ladder"] as? [[String: Any]])?.map { $0["kind"] as? String }.prefix(2) == ["reminder", "overdue"])
                let figure = try await http.send(.get("/v1/protection-figure", token: fixture.token("coordinator", "thanh-tra-tp"))).json()
                #expect(figure["opened"] as? Int == 1 && figure["overdue"] as? Int == 1 && figure["protected_in_time_percent"] as? Double == 0)

                // An agency seals the details to the newsroom's current key, read from the API.
                let key = SourcePrivateKey(newsroom: Self.tuoitre)
                _ = try await http.send(
                    .put("/v1/newsrooms/tuoitre/source-keys", token: fixture.token("liaison", "tuoitre"), json: SourceEnvelopeHTTPTests.keyJSON(key)))
                let listed = try await http.send(.get("/v1/newsrooms/tuoitre/source-keys", token: ward)).json()
                let published = try #require((listed["keys"] as? [[String: Any]])?.first?["public_key"] as? String)
                let sealed = try SourceEnvelope.seal(
                    Array("Kế toán viên bị điều chuyển".utf8), to: try #require(SourcePublicKey(newsroom: Self.tuoitre, base64URL: published)))
                let withDetails = try await http.send(
                    .post(
                        "/v1/protection-cases", token: ward,
                        json:
                            #"{"person":"source","retaliation":"dismissal","jurisdiction":"cau-giay","newsroom":"tuoitre","details_envelope":\#(try SourceEnvelopeHTTPTests.envelopeJSON(sealed))}"#
                    ))
                #expect(try withDetails.status == .created && withDetails.json()["details_handle"] is String, "\(withDetails.text)")

                let sealedElsewhere = try SourceEnvelope.seal([1], to: SourcePrivateKey(newsroom: PartyCode(rawValue: "vnexpress")!).publicKey)
                let wrong = try await http.send(
                    .post(
                        "/v1/protection-cases", token: fixture.token("liaison", "tuoitre"),
                        json:
                            #"{"person":"source","retaliation":"threat","jurisdiction":"cau-giay","details_envelope":\#(try SourceEnvelopeHTTPTests.envelopeJSON(sealedElsewhere))}"#
                    ))
                #expect(try wrong.status == .unprocessableContent && wrong.problemFields() == ["details_envelope.newsroom"], "\(wrong.text)")
                let foreign = try await http.send(
                    .post(
                        "/v1/protection-cases", token: fixture.token("liaison", "tuoitre"),
                        json: #"{"person":"source","retaliation":"threat","jurisdiction":"cau-giay","newsroom":"vnexpress"}"#))
                #expect(try foreign.status == .unprocessableContent && foreign.problemFields() == ["newsroom"])
            }
        }
    }
}

@Suite("Ladders of disclosure requests and protection cases")
struct LadderAnnouncementTests {
    /// The engine announces each rung once, to the holder's topic and, from the overdue notice on, to the
    /// City Inspectorate's; a decided request or a resolved case climbs no further.
    @Test func anUndecidedRequestAndAnUnacknowledgedCaseAreAnnouncedRungByRungOnce() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { http in
                let handle = try await DisclosureHTTPTests.sealedFinding(http, fixture)
                let filed = try await http.send(
                    .post(
                        "/v1/disclosure-requests", token: fixture.token("agency", "vks-tp"),
                        json: DisclosureHTTPTests.request(handle: handle, basis: "press-law-2025", dated: "2026-11-30")))
                let request = try #require(try filed.json()["id"] as? String)
                let opened = try await http.send(
                    .post(
                        "/v1/protection-cases", token: fixture.token("liaison", "tuoitre"),
                        json: #"{"person":"source","retaliation":"threat","jurisdiction":"cau-giay"}"#))
                #expect(opened.status == .created)
                let calendar = try await CalendarStore(client: fixture.client).load()
                #expect(try await LadderStore.announceDue(at: Date(), calendar: calendar, on: fixture.service) == 0)

                // A month on, with nothing decided.
                let later = Date().addingTimeInterval(30 * 86_400)
                #expect(try await LadderStore.announceDue(at: later, calendar: calendar, on: fixture.service) == 8)
                #expect(try await LadderStore.announceDue(at: later, calendar: calendar, on: fixture.service) == 0)
                let rows = try await fixture.client.query(
                    "SELECT topic, ce_type, count(*) FROM outbox WHERE ce_type LIKE '%.rung.v1' GROUP BY topic, ce_type ORDER BY topic"
                ).decode((String, String, Int).self)
                #expect(
                    rows.map { "\($0.0) \($0.1) \($0.2)" } == [
                        "tipwire.escalations \(EventType.disclosureRung) 3", "tipwire.escalations \(EventType.protectionRung) 3",
                        "tipwire.requests.tuoitre \(EventType.disclosureRung) 4", "tipwire.tasks.cong-an-tp \(EventType.protectionRung) 4",
                    ])
                let decided = try await http.send(
                    .post(
                        "/v1/disclosure-requests/\(request)/decision", token: fixture.token("liaison", "tuoitre"),
                        json: #"{"decision":"contest","reason":"x"}"#))
                #expect(decided.status == .ok)
                #expect(try await fixture.count("disclosure_requests") == 1)
                let pending = try await fixture.client.query("SELECT count(*) FROM disclosure_requests WHERE next_rung_at IS NOT NULL")[0]
                #expect(try pending.decode(column: 0, as: Int.self) == 0)
            }
        }
    }
}
