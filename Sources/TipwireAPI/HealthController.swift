import Foundation
import Hummingbird
import Prometheus

/// One dependency's health check (database, Kafka, …).
public struct HealthCheck: Sendable {
    public var name: String
    public var detail: String?
    public var run: @Sendable () async throws -> Void

    public init(name: String, detail: String? = nil, run: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.detail = detail
        self.run = run
    }
}

/// `GET /healthz` (200 when every dependency answers, 503 otherwise) and `GET /metrics` (Prometheus text).
///
/// Anyone may ask whether tipwire is up; the version and each dependency's address and error are for
/// callers with a valid token (`showsDetails`), since they map the infrastructure for an attacker.
public struct HealthController<Context: RequestContext>: Sendable {
    let checks: [HealthCheck]
    let registry: PrometheusCollectorRegistry
    let version: String
    let showsDetails: @Sendable (Request) async -> Bool
    /// Exposition text appended to the registry's: families read from elsewhere (the database).
    let moreMetrics: @Sendable () async -> String

    public init(
        checks: [HealthCheck], registry: PrometheusCollectorRegistry, version: String, moreMetrics: @escaping @Sendable () async -> String = { "" },
        showsDetails: @escaping @Sendable (Request) async -> Bool
    ) {
        self.checks = checks
        self.registry = registry
        self.version = version
        self.moreMetrics = moreMetrics
        self.showsDetails = showsDetails
    }

    struct CheckResult: Encodable {
        var status: String
        var detail: String?
        var error: String?
    }

    struct Report: ResponseEncodable {
        var status: String
        var version: String?
        var checks: [String: CheckResult]?
    }

    public func addRoutes(to router: Router<Context>) {
        router.get("/healthz") { request, _ -> Response in
            var report = await health()
            if await !showsDetails(request) {
                report.version = nil
                report.checks = nil
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.cacheControl] = "no-store"
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let body = (try? encoder.encode(report)) ?? Data("{\"status\":\"error\"}".utf8)
            return Response(
                status: report.status == "ok" ? .ok : .serviceUnavailable, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("/metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            let more = await moreMetrics()
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer() + Array(more.utf8))))
        }
    }

    func health() async -> Report {
        let results = await withTaskGroup(of: (String, CheckResult).self) { group in
            for check in checks {
                group.addTask {
                    do {
                        try await withTimeout(.seconds(3)) { try await check.run() }
                        return (check.name, CheckResult(status: "ok", detail: check.detail))
                    } catch {
                        return (check.name, CheckResult(status: "unavailable", detail: check.detail, error: "\(error)"))
                    }
                }
            }
            return await group.reduce(into: [String: CheckResult]()) { $0[$1.0] = $1.1 }
        }
        let healthy = results.values.allSatisfy { $0.status == "ok" }
        return Report(status: healthy ? "ok" : "unavailable", version: version, checks: results)
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var description: String { "no answer in time" }
}

func withTimeout(_ limit: Duration, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut()
        }
        try await group.next()
        group.cancelAll()
    }
}
