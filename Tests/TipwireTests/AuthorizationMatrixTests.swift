import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing
import TipwireCore
import TipwireStore

/// Every endpoint × every role × own or other scope, as one generated table: who gets through, who is
/// refused by role (403), and who is told the object does not exist (404), which is how every
/// out-of-scope object answers. "Through" means authorization let the request reach its handler: any
/// answer but 401, 403 and 404.
@Suite("The authorization matrix")
struct AuthorizationMatrixTests {
    /// The callers: each role, and for scoped roles one inside the world's objects and one outside.
    enum Caller: String, CaseIterable, CustomTestStringConvertible {
        case ownLiaison, otherLiaison, ownAgency, otherAgency, requester, protector, coordinator, auditor, admin, nobody

        var testDescription: String { rawValue }

        func token(_ fixture: Fixture) -> String? {
            switch self {
            case .ownLiaison: fixture.token("liaison", "tuoitre")
            case .otherLiaison: fixture.token("liaison", "vnexpress")
            case .ownAgency: fixture.token("agency", "so-nnmt")
            case .otherAgency: fixture.token("agency", "so-xay-dung")
            case .requester: fixture.token("agency", "vks-tp")
            case .protector: fixture.token("agency", "cong-an-tp")
            case .coordinator: fixture.token("coordinator", "thanh-tra-tp")
            case .auditor: fixture.token("auditor")
            case .admin: fixture.token("admin")
            case .nobody: nil
            }
        }
    }

    enum Outcome: String {
        case through, forbidden, hidden
    }

    /// The objects of one world: tuoitre's finding (sealed source, a document), so-nnmt's task on it, the
    /// information request so-nnmt sent tuoitre, vks-tp's disclosure request about the source, and the
    /// protection case tuoitre opened for its journalist, which the City Police hold.
    struct World {
        var finding, task, document, request, handle, disclosure, protection, person: String
    }

    struct Endpoint: Sendable {
        var method: HTTPRequest.Method
        var path: @Sendable (World) -> String
        var body: String?
        /// Callers that get through; everyone else of a role listed in `hiddenFrom` gets 404, the rest 403.
        var through: Set<Caller>
        var hiddenFrom: Set<Caller> = []
        var label: String
    }

    static let all: Set<Caller> = Set(Caller.allCases).subtracting([.nobody])
    static let liaisons: Set<Caller> = [.ownLiaison, .otherLiaison]
    static let agencies: Set<Caller> = [.ownAgency, .otherAgency, .requester, .protector]

    static let endpoints: [Endpoint] = [
        Endpoint(method: .get, path: { _ in "/v1/findings" }, through: liaisons.union(agencies).union([.coordinator]), label: "GET /v1/findings"),
        Endpoint(
            method: .get, path: { "/v1/findings/\($0.finding)" }, through: [.ownLiaison, .ownAgency, .coordinator],
            hiddenFrom: [.otherLiaison, .otherAgency, .requester, .protector], label: "GET /v1/findings/{id}"),
        Endpoint(method: .post, path: { _ in "/v1/findings" }, body: "{}", through: liaisons, label: "POST /v1/findings"),
        Endpoint(
            method: .post, path: { "/v1/findings/\($0.finding)/questions" }, body: #"{"question":"Tiến độ?"}"#, through: [.ownLiaison],
            hiddenFrom: [.otherLiaison], label: "POST /v1/findings/{id}/questions"),
        // Liaisons follow their findings' tasks through the findings; the task list is the agencies' and the coordinator's.
        Endpoint(method: .get, path: { _ in "/v1/tasks" }, through: agencies.union([.coordinator]), label: "GET /v1/tasks"),
        Endpoint(
            method: .get, path: { "/v1/tasks/\($0.task)" }, through: [.ownLiaison, .ownAgency, .coordinator],
            hiddenFrom: [.otherLiaison, .otherAgency, .requester, .protector], label: "GET /v1/tasks/{id}"),
        Endpoint(
            method: .post, path: { "/v1/tasks/\($0.task)/start" }, body: "{}", through: [.ownAgency],
            hiddenFrom: [.otherAgency, .requester, .protector], label: "POST /v1/tasks/{id}/{action}"),
        Endpoint(
            method: .get, path: { "/v1/documents/\($0.document)" }, through: [.ownLiaison, .ownAgency, .coordinator],
            hiddenFrom: [.otherLiaison, .otherAgency, .requester, .protector], label: "GET /v1/documents/{id}"),
        Endpoint(method: .get, path: { _ in "/v1/requests" }, through: liaisons.union(agencies).union([.coordinator]), label: "GET /v1/requests"),
        Endpoint(
            method: .get, path: { "/v1/requests/\($0.request)" }, through: [.ownLiaison, .ownAgency, .coordinator],
            hiddenFrom: [.otherLiaison, .otherAgency, .requester, .protector], label: "GET /v1/requests/{id}"),
        Endpoint(
            // Agencies answer newsroom questions at the same endpoint; a request to a newsroom is not theirs to answer.
            method: .post, path: { "/v1/requests/\($0.request)/answer" }, body: #"{"answer":"Đã gửi"}"#, through: [.ownLiaison],
            hiddenFrom: liaisons.union(agencies).subtracting([.ownLiaison]), label: "POST /v1/requests/{id}/answer"),
        Endpoint(
            method: .post, path: { "/v1/requests/\($0.request)/decline" }, body: #"{"reason":"Không có tài liệu"}"#, through: [.ownLiaison],
            hiddenFrom: liaisons.union(agencies).subtracting([.ownLiaison]), label: "POST /v1/requests/{id}/decline"),
        Endpoint(method: .post, path: { _ in "/v1/documents" }, body: "%PDF-1.7", through: liaisons, label: "POST /v1/documents"),
        // The overdue board is the coordinator's; each holder lists the escalations of the duties it holds.
        Endpoint(method: .get, path: { _ in "/v1/overdue" }, through: [.coordinator], label: "GET /v1/overdue"),
        Endpoint(
            method: .get, path: { _ in "/v1/escalations" }, through: liaisons.union(agencies).union([.coordinator]), label: "GET /v1/escalations"),
        // No rung has been raised in this world (DeadlineTests cover acknowledging one): the coordinator is told
        // there is no such escalation, everyone else that they may not acknowledge any.
        Endpoint(
            method: .post, path: { _ in "/v1/escalations/\(UUID().uuidString.lowercased())/acknowledge" }, body: #"{"note":"Đã nhắc"}"#,
            through: [], hiddenFrom: [.coordinator], label: "POST /v1/escalations/{id}/acknowledge"),
        Endpoint(
            method: .post, path: { _ in "/v1/protection-cases" }, body: #"{"person":"journalist","retaliation":"threat"}"#,
            through: liaisons.union(agencies), label: "POST /v1/protection-cases"),
        Endpoint(
            method: .get, path: { _ in "/v1/protection-cases" }, through: liaisons.union(agencies).union([.coordinator]),
            label: "GET /v1/protection-cases"),
        Endpoint(
            method: .get, path: { "/v1/protection-cases/\($0.protection)" }, through: [.ownLiaison, .protector, .coordinator],
            hiddenFrom: [.otherLiaison, .ownAgency, .otherAgency, .requester], label: "GET /v1/protection-cases/{id}"),
        Endpoint(
            method: .post, path: { "/v1/protection-cases/\($0.protection)/acknowledge" }, body: "{}", through: [.protector],
            hiddenFrom: [.ownAgency, .otherAgency, .requester], label: "POST /v1/protection-cases/{id}/acknowledge"),
        Endpoint(
            method: .post, path: { "/v1/protection-cases/\($0.protection)/resolve" }, body: #"{"outcome":"protected","note":"Đã bảo vệ"}"#,
            through: [.protector], hiddenFrom: [.ownAgency, .otherAgency, .requester], label: "POST /v1/protection-cases/{id}/resolve"),
        Endpoint(method: .get, path: { _ in "/v1/protection-figure" }, through: [.coordinator], label: "GET /v1/protection-figure"),
        Endpoint(
            // An agency sees its own rows, a liaison its newsroom's answer times (StatsScope).
            method: .get, path: { _ in "/v1/stats/latency" }, through: agencies.union(liaisons).union([.coordinator]), label: "GET /v1/stats/latency"),
        Endpoint(method: .get, path: { _ in "/v1/scorecards/2026" }, through: agencies.union([.coordinator]), label: "GET /v1/scorecards/{year}"),
        Endpoint(method: .get, path: { _ in "/v1/policies" }, through: all, label: "GET /v1/policies"),
        Endpoint(method: .put, path: { _ in "/v1/policies/resolve" }, body: "{}", through: [.admin], label: "PUT /v1/policies/{stage}"),
        Endpoint(method: .get, path: { _ in "/v1/people" }, through: [.admin], label: "GET /v1/people"),
        Endpoint(method: .post, path: { _ in "/v1/people" }, body: "{}", through: [.admin], label: "POST /v1/people"),
        Endpoint(method: .get, path: { "/v1/people/\($0.person)" }, through: [.admin], label: "GET /v1/people/{id}"),
        Endpoint(method: .put, path: { "/v1/people/\($0.person)" }, body: "{}", through: [.admin], label: "PUT /v1/people/{id}"),
        Endpoint(method: .delete, path: { "/v1/people/\($0.person)" }, through: [.admin], label: "DELETE /v1/people/{id}"),
        Endpoint(method: .get, path: { _ in "/v1/audit" }, through: [.auditor], label: "GET /v1/audit"),
        Endpoint(
            // Agencies read the public keys to seal a protection case's details to the newsroom.
            method: .get, path: { _ in "/v1/newsrooms/tuoitre/source-keys" }, through: agencies.union([.ownLiaison]),
            hiddenFrom: all.subtracting(agencies).subtracting([.ownLiaison]), label: "GET /v1/newsrooms/{code}/source-keys"),
        Endpoint(
            method: .put, path: { _ in "/v1/newsrooms/tuoitre/source-keys" }, body: "{}", through: [.ownLiaison],
            hiddenFrom: all.subtracting([.ownLiaison]), label: "PUT /v1/newsrooms/{code}/source-keys"),
        Endpoint(
            method: .get, path: { "/v1/sources/\($0.handle)" }, through: [.ownLiaison], hiddenFrom: all.subtracting([.ownLiaison]),
            label: "GET /v1/sources/{handle}"),
        Endpoint(method: .get, path: { _ in "/v1/disclosure-requests" }, through: liaisons.union(agencies), label: "GET /v1/disclosure-requests"),
        Endpoint(method: .post, path: { _ in "/v1/disclosure-requests" }, body: "{}", through: agencies, label: "POST /v1/disclosure-requests"),
        Endpoint(
            method: .get, path: { "/v1/disclosure-requests/\($0.disclosure)" }, through: [.ownLiaison, .requester],
            hiddenFrom: [.otherLiaison, .ownAgency, .otherAgency, .protector], label: "GET /v1/disclosure-requests/{id}"),
        Endpoint(
            method: .get, path: { "/v1/disclosure-requests/\($0.disclosure)/written-request" }, through: [.ownLiaison, .requester],
            hiddenFrom: [.otherLiaison, .ownAgency, .otherAgency, .protector], label: "GET /v1/disclosure-requests/{id}/written-request"),
        Endpoint(
            method: .post, path: { "/v1/disclosure-requests/\($0.disclosure)/decision" }, body: #"{"decision":"refuse","reason":"Bảo vệ nguồn tin"}"#,
            through: [.ownLiaison], hiddenFrom: [.otherLiaison], label: "POST /v1/disclosure-requests/{id}/decision"),
    ]

    static func expected(_ endpoint: Endpoint, _ caller: Caller) -> Outcome? {
        if caller == .nobody { return nil }
        if endpoint.through.contains(caller) { return .through }
        return endpoint.hiddenFrom.contains(caller) ? .hidden : .forbidden
    }

    static func makeWorld(_ http: some TestClientProtocol, _ fixture: Fixture) async throws -> World {
        let liaison = fixture.token("liaison", "tuoitre")
        let document = try await IngestTests.upload(http, fixture, "%PDF-1.7 biên bản")
        let key = SourcePrivateKey(newsroom: PartyCode(rawValue: "tuoitre")!)
        _ = try await http.send(.put("/v1/newsrooms/tuoitre/source-keys", token: liaison, json: SourceEnvelopeHTTPTests.keyJSON(key)))
        let envelope = try SourceEnvelopeHTTPTests.envelopeJSON(try SourceEnvelope.seal(Array("a source".utf8), to: key.publicKey))
        let created = try await http.send(.post("/v1/findings", token: liaison, json: findingJSON(documents: [document], sourceEnvelope: envelope)))
        let body = try created.json()
        let finding = try #require(body["id"] as? String)
        let handle = try #require(body["source_handle"] as? String)
        let task = try #require((body["tasks"] as? [[String: Any]])?.first { $0["agency"] as? String == "so-nnmt" }?["id"] as? String)
        let department = fixture.token("agency", "so-nnmt")
        _ = try await TaskLifecycleHTTPTests.act(http, task, "acknowledge", token: department)
        let asked = try await TaskLifecycleHTTPTests.act(http, task, "request-info", token: department, json: #"{"questions":"Biên bản gốc?"}"#)
        let events = try #require((try asked.json()["task"] as? [String: Any])?["events"] as? [[String: Any]])
        let request = try #require((events.last?["detail"] as? [String: Any])?["request_id"] as? String)
        let filed = try await http.send(
            .post(
                "/v1/disclosure-requests", token: fixture.token("agency", "vks-tp"),
                json: DisclosureHTTPTests.request(handle: handle, basis: "press-law-2025", dated: "2026-11-30")))
        let disclosure = try #require(try filed.json()["id"] as? String, "\(filed.text)")
        let opened = try await http.send(
            .post("/v1/protection-cases", token: liaison, json: #"{"person":"journalist","retaliation":"threat","jurisdiction":"cau-giay"}"#))
        let protection = try #require(try opened.json()["id"] as? String, "\(opened.text)")
        let person = try await http.send(.post("/v1/people", token: fixture.token("admin"), json: PeopleHTTPTests.person()))
        return World(
            finding: finding, task: task, document: document, request: request, handle: handle, disclosure: disclosure, protection: protection,
            person: try #require(try person.json()["id"] as? String))
    }

    /// One world per caller, so one caller's changes cannot change what the next one sees.
    @Test(arguments: Caller.allCases)
    func everyEndpointAnswersThisCallerAsTheTableSays(caller: Caller) async throws {
        try await Fixture.with(rateLimit: nil) { fixture in
            try await fixture.app().test(.router) { http in
                let world = try await Self.makeWorld(http, fixture)
                for endpoint in Self.endpoints {
                    var headers: HTTPFields = [:]
                    if let token = caller.token(fixture) { headers[.authorization] = "Bearer \(token)" }
                    if endpoint.body != nil {
                        headers[.contentType] = endpoint.label == "POST /v1/documents" ? "application/pdf" : "application/json"
                    }
                    let status = try await http.execute(
                        uri: endpoint.path(world), method: endpoint.method, headers: headers, body: endpoint.body.map { ByteBuffer(string: $0) }
                    ) { $0.status }
                    switch Self.expected(endpoint, caller) {
                    case nil: #expect(status == .unauthorized, "\(endpoint.label) without a token: \(status)")
                    case .through?: #expect(![.unauthorized, .forbidden, .notFound].contains(status), "\(endpoint.label) as \(caller): \(status)")
                    case .forbidden?: #expect(status == .forbidden, "\(endpoint.label) as \(caller): \(status), expected 403")
                    case .hidden?: #expect(status == .notFound, "\(endpoint.label) as \(caller): \(status), expected 404")
                    }
                }
            }
        }
    }

    /// The table covers every operation under /v1 that schemas/openapi.yaml describes.
    @Test func theTableCoversEveryOperationInTheOpenAPIDocument() throws {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("schemas/openapi.yaml"), encoding: .utf8)
        var operations: Set<String> = []
        var path: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /") && line.hasSuffix(":") && !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if let current = path, current.hasPrefix("/v1/"), line.hasPrefix("    "), !line.hasPrefix("     "),
                let method = ["get", "put", "post", "delete", "patch"].first(where: { line == "    \($0):" })
            {
                operations.insert("\(method.uppercased()) \(current)")
            } else if !line.hasPrefix(" ") && !line.isEmpty {
                path = nil
            }
        }
        #expect(operations.count > 20)
        #expect(operations.subtracting(Self.endpoints.map(\.label)).sorted() == [])
    }
}
