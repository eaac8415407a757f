import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Prometheus
import TestSupport
import Testing
import TipwireAPI
import TipwireCore
import TipwireStore

/// The repository root, for `schemas/`.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A migrated schema with the demo parties and a token per principal, and the API over it.
struct Fixture: Sendable {
    /// The schema owner's pool, for checks and set-up behind the service's back.
    let client: PostgresClient
    /// The pool the stores use: connected as the service's role, with only its privileges.
    let service: PostgresClient
    let tokens: [String: BearerToken]
    let stores: TipwireStores
    let dependencies: APIDependencies

    static let publicURL = "http://tipwire.test"

    static func with<T>(
        maxDocumentSize: Int = APIDependencies.defaultMaxDocumentSize, maxConnections: Int = 8, rateLimit: RateLimit? = .default,
        _ body: (Fixture) async throws -> T
    ) async throws -> T {
        try await TestDatabase.withSchema(maxConnections: maxConnections) { client async throws in
            let fixture = try await make(client: client, maxDocumentSize: maxDocumentSize, rateLimit: rateLimit)
            defer { fixture.service.close() }
            // Tests call stores as the pipeline does; requests through the router run as their caller.
            return try await DatabaseScope.system { try await body(fixture) }
        }
    }

    static func make(
        client: PostgresClient, maxDocumentSize: Int = APIDependencies.defaultMaxDocumentSize, rateLimit: RateLimit? = .default
    ) async throws -> Fixture {
        let owner = TipwireDatabase(client: client)
        try await owner.migrate(directory: repositoryRoot.appendingPathComponent("schemas/sql"), logger: quietLogger)
        try await DemoData.seedParties(client)
        let service = try await TestDatabase.serviceClient(like: client) { try await owner.grantService(role: $0) }
        let stores = TipwireStores(
            database: TipwireDatabase(client: service), links: DocumentLinks(publicURL: publicURL), findingsLogger: quietLogger,
            statsFoldFirst: true)
        let created = try await DemoData.createTokens(stores.tokens)
        let dependencies = APIDependencies(stores: stores, maxDocumentSize: maxDocumentSize, rateLimit: rateLimit)
        return Fixture(
            client: client, service: service, tokens: Dictionary(uniqueKeysWithValues: created.map { ($0.name, $0.token) }), stores: stores,
            dependencies: dependencies)
    }

    /// `token("liaison", "tuoitre")` → the demo token `TIPWIRE_TOKEN_LIAISON_TUOITRE`.
    func token(_ role: String, _ code: String? = nil) -> String {
        let name = "TIPWIRE_TOKEN_\(role.uppercased())" + (code.map { "_" + $0.uppercased().replacingOccurrences(of: "-", with: "_") } ?? "")
        return tokens[name]!.text
    }

    func app(checks: [HealthCheck] = []) -> some ApplicationProtocol {
        Application(router: buildRouter(dependencies: dependencies, checks: checks, registry: PrometheusCollectorRegistry(), version: "test"))
    }

    func count(_ table: String) async throws -> Int {
        try await client.query("SELECT count(*) FROM \(identifier: table)")[0].decode(column: 0, as: Int.self)
    }

    /// Row counts of every table a request could write to.
    func tableCounts() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in ["findings", "tasks", "task_events", "outbox", "idempotency_keys", "documents", "document_blobs", "finding_documents"] {
            counts[table] = try await count(table)
        }
        return counts
    }
}

/// A request against the in-process router.
struct Call {
    var method: HTTPRequest.Method = .get
    var path: String
    var token: String?
    var body: [UInt8]?
    var contentType: String? = "application/json"
    var headers: HTTPFields = [:]

    static func get(_ path: String, token: String?, headers: HTTPFields = [:]) -> Call {
        Call(method: .get, path: path, token: token, body: nil, contentType: nil, headers: headers)
    }

    static func put(_ path: String, token: String?, json: String) -> Call {
        Call(method: .put, path: path, token: token, body: Array(json.utf8))
    }

    static func post(_ path: String, token: String?, json: String, key: String? = UUID().uuidString, headers: HTTPFields = [:]) -> Call {
        var headers = headers
        if let key { headers[HTTPField.Name("Idempotency-Key")!] = key }
        return Call(method: .post, path: path, token: token, body: Array(json.utf8), headers: headers)
    }
}

struct Reply {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "not a JSON object: \(text.prefix(300))")
    }

    /// The fields a problem+json answer names.
    func problemFields() throws -> [String] {
        #expect(headers[.contentType] == "application/problem+json", "\(status) \(text.prefix(300))")
        let errors = try json()["errors"] as? [[String: Any]] ?? []
        return errors.compactMap { $0["field"] as? String }
    }
}

extension TestClientProtocol {
    func send(_ call: Call) async throws -> Reply {
        var headers = call.headers
        if let token = call.token { headers[.authorization] = "Bearer \(token)" }
        if let contentType = call.contentType, call.body != nil { headers[.contentType] = contentType }
        return try await execute(uri: call.path, method: call.method, headers: headers, body: call.body.map { ByteBuffer(bytes: $0) }) { response in
            Reply(status: response.status, headers: response.headers, body: Array(response.body.readableBytesView))
        }
    }
}

/// A valid finding body for the demo world.
func findingJSON(
    category: String = "land", jurisdiction: String = "cau-giay", documents: [String] = [], title: String = "Đất công bị chiếm dụng ở Cầu Giấy",
    subject: String? = nil, sourceEnvelope: String? = nil
) -> String {
    let documentList = documents.map { "\"\($0)\"" }.joined(separator: ",")
    return """
        {"article_url": "https://tuoitre.vn/dat-cong-cau-giay-2026.htm", "title": "\(title)",
         "published_at": "2026-11-20T08:30:00+07:00", "summary": "Khu đất công 2.000 m² bị sử dụng sai mục đích.",
         "category": "\(category)", "jurisdiction": "\(jurisdiction)", "document_ids": [\(documentList)]\(subject.map { ", \"subject_agency\": \"\($0)\"" } ?? "")\(sourceEnvelope.map { ", \"source_envelope\": \($0)" } ?? "")}
        """
}
