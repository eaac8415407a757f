import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import Testing
import TipwireCore
import TipwireStore

@Suite("Disclosure requests over HTTP")
struct DisclosureHTTPTests {
    static let letter = Array("%PDF-1.7 Công văn yêu cầu cung cấp thông tin, ký tên, đóng dấu".utf8)

    /// A finding with a sealed source from tuoitre; returns its handle.
    static func sealedFinding(_ http: some TestClientProtocol, _ fixture: Fixture) async throws -> String {
        let liaison = fixture.token("liaison", "tuoitre")
        let key = SourcePrivateKey(newsroom: PartyCode(rawValue: "tuoitre")!)
        #expect(
            try await http.send(.put("/v1/newsrooms/tuoitre/source-keys", token: liaison, json: SourceEnvelopeHTTPTests.keyJSON(key))).status
                == .created)
        let envelope = try SourceEnvelopeHTTPTests.envelopeJSON(try SourceEnvelope.seal(Array("a source".utf8), to: key.publicKey))
        let created = try await http.send(.post("/v1/findings", token: liaison, json: findingJSON(sourceEnvelope: envelope)))
        return try #require(try created.json()["source_handle"] as? String)
    }

    static func request(handle: String, basis: String, dated: String, crimeClass: String = "very-serious") -> String {
        #"{"source_handle":"\#(handle)","legal_basis":"\#(basis)","crime_class":"\#(crimeClass)","case_reference":"Vụ án 12/2026/HS","dated":"\#(dated)","written_request":{"media_type":"application/pdf","content":"\#(Data(letter).base64EncodedString())"}}"#
    }

    @Test func whoQualifiesDependsOnTheBasisInForceOnTheRequestsDate() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { http in
                let handle = try await Self.sealedFinding(http, fixture)
                let procuracy = fixture.token("agency", "vks-tp")
                let police = fixture.token("agency", "cong-an-tp")
                let department = fixture.token("agency", "so-nnmt")
                let cases: [(String, String, String, String, HTTPResponse.Status, String)] = [
                    (procuracy, "press-law-2016", "2026-06-15", "very-serious", .created, ""),
                    (procuracy, "press-law-2016", "2026-11-30", "very-serious", .forbidden, "not in force on 2026-11-30"),
                    (procuracy, "press-law-2016", "2026-06-15", "serious", .forbidden, "not serious"),
                    (department, "press-law-2016", "2026-06-15", "very-serious", .forbidden, "so-nnmt is a provincial-level department"),
                    (department, "press-law-2025", "2026-11-30", "very-serious", .forbidden, "so-nnmt is a provincial-level department"),
                    (police, "press-law-2016", "2026-06-15", "very-serious", .forbidden, "cong-an-tp is a provincial-level police"),
                    (police, "press-law-2025", "2026-06-30", "very-serious", .forbidden, "not in force on 2026-06-30"),
                    (police, "press-law-2025", "2026-07-01", "very-serious", .created, ""),
                ]
                for (token, basis, dated, crimeClass, status, reason) in cases {
                    let reply = try await http.send(
                        .post(
                            "/v1/disclosure-requests", token: token,
                            json: Self.request(handle: handle, basis: basis, dated: dated, crimeClass: crimeClass)))
                    #expect(reply.status == status, "\(basis) \(dated): \(reply.text)")
                    if status == .forbidden {
                        #expect(reply.text.contains(reason) && reply.text.contains("not-qualified"), "\(reply.text)")
                    }
                }
                #expect(try await fixture.count("disclosure_requests") == 2)
                let unknownBasis = try await http.send(
                    .post("/v1/disclosure-requests", token: procuracy, json: Self.request(handle: handle, basis: "decree-99", dated: "2026-06-15")))
                #expect(try unknownBasis.status == .unprocessableContent && unknownBasis.problemFields() == ["legal_basis"])
                let noSource = try await http.send(
                    .post(
                        "/v1/disclosure-requests", token: procuracy,
                        json: Self.request(handle: SourceHandle().rawValue, basis: "press-law-2025", dated: "2026-11-30")))
                #expect(noSource.status == .notFound)
                for other in [fixture.token("liaison", "tuoitre"), fixture.token("coordinator", "thanh-tra-tp"), fixture.token("auditor")] {
                    let refused = try await http.send(
                        .post(
                            "/v1/disclosure-requests", token: other, json: Self.request(handle: handle, basis: "press-law-2025", dated: "2026-11-30"))
                    )
                    #expect(refused.status == .forbidden)
                }
            }
        }
    }

    /// The newsroom hears of the request on its topic, sees it climb its ladder while undecided, decides
    /// once (a second decision is 409), and the agency hears the decision on its own topic. Every step is
    /// audited; only the two sides see the request or its written letter.
    @Test func theNewsroomDecidesOnceAndEveryStepIsAuditedAndAnnounced() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { http in
                let handle = try await Self.sealedFinding(http, fixture)
                let procuracy = fixture.token("agency", "vks-tp")
                let filed = try await http.send(
                    .post(
                        "/v1/disclosure-requests", token: procuracy, json: Self.request(handle: handle, basis: "press-law-2025", dated: "2026-11-30"))
                )
                #expect(filed.status == .created, "\(filed.text)")
                let id = try #require(try filed.json()["id"] as? String)
                #expect(try filed.json()["state"] as? String == "open" && (try filed.json()["ladder"] as? [Any])?.isEmpty == true)
                let topics = try await fixture.client.query(
                    "SELECT topic, ce_type FROM outbox WHERE ce_type LIKE 'vn.tipwire.disclosure.%'"
                ).decode((String, String).self)
                #expect(topics.map(\.0) == ["tipwire.requests.tuoitre"] && topics.map(\.1) == [EventType.disclosureRequested])

                // Undecided for a month: the ladder has climbed to its top.
                try await fixture.client.execute(
                    "UPDATE disclosure_requests SET started_at = started_at - interval '30 days', due_at = due_at - interval '30 days'")
                let liaison = fixture.token("liaison", "tuoitre")
                let late = try await http.send(.get("/v1/disclosure-requests/\(id)", token: liaison)).json()
                let ladder = try #require(late["ladder"] as? [[String: Any]])
                #expect(ladder.map { $0["kind"] as? String } == ["reminder", "overdue", "escalation", "escalation"])
                #expect((late["overdue_by_working_days"] as? Int ?? 0) > 10)

                let listed = try await http.send(.get("/v1/disclosure-requests", token: liaison)).json()
                #expect((listed["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
                for other in [fixture.token("liaison", "vnexpress"), fixture.token("agency", "so-nnmt")] {
                    #expect(try await http.send(.get("/v1/disclosure-requests/\(id)", token: other)).status == .notFound)
                    #expect(try await http.send(.get("/v1/disclosure-requests/\(id)/written-request", token: other)).status == .notFound)
                    #expect(((try await http.send(.get("/v1/disclosure-requests", token: other)).json())["items"] as? [Any])?.isEmpty == true)
                }
                for side in [liaison, procuracy] {
                    let letter = try await http.send(.get("/v1/disclosure-requests/\(id)/written-request", token: side))
                    #expect(letter.status == .ok && letter.body == Self.letter && letter.headers[.contentType] == "application/pdf")
                }

                let decision = #"{"decision":"refuse","reason":"Tội danh nêu trong công văn không thuộc trường hợp luật cho phép"}"#
                let wrongNewsroom = try await http.send(
                    .post("/v1/disclosure-requests/\(id)/decision", token: fixture.token("liaison", "vnexpress"), json: decision))
                #expect(wrongNewsroom.status == .notFound)
                #expect(try await http.send(.post("/v1/disclosure-requests/\(id)/decision", token: procuracy, json: decision)).status == .forbidden)
                let decided = try await http.send(.post("/v1/disclosure-requests/\(id)/decision", token: liaison, json: decision))
                #expect(decided.status == .ok, "\(decided.text)")
                #expect(try decided.json()["state"] as? String == "refused")
                let again = try await http.send(
                    .post("/v1/disclosure-requests/\(id)/decision", token: liaison, json: #"{"decision":"comply","reason":"Đổi ý"}"#))
                #expect(again.status == .conflict && again.text.contains("already decided"), "\(again.text)")
                let seen = try await http.send(.get("/v1/disclosure-requests/\(id)", token: procuracy)).json()
                #expect((seen["decision"] as? [String: Any])?["decision"] as? String == "refuse")
                // Decided: the ladder stops where it stood.
                #expect((seen["ladder"] as? [Any])?.count == 4)

                let decidedEvents = try await fixture.client.query(
                    "SELECT topic FROM outbox WHERE ce_type = \(EventType.disclosureDecided)"
                ).decodeColumn(String.self)
                #expect(decidedEvents == ["tipwire.tasks.vks-tp"])
                let actions = try await fixture.stores.audit.list(AuditFilter()).items.map(\.action)
                #expect(actions.filter { $0.hasPrefix("disclosure.") } == ["disclosure.decided", "disclosure.requested"])
                #expect(actions.filter { $0 == "document.read" }.count == 2)
                guard case .intact = try await fixture.stores.audit.verify() else {
                    Issue.record("the audit chain broke")
                    return
                }
            }
        }
    }
}
