import Foundation

/// How to open one connection.
public struct PostgresConfiguration: Sendable {
    /// A libpq connection URI (`postgres://user:pass@host:port/db`) or key/value
    /// string. A unix-socket directory goes in `host`: `postgres:///db?host=/run/postgresql`.
    public var url: String
    public var applicationName: String
    public var connectTimeout: Duration
    /// Session settings applied after connecting, e.g. `["search_path": "tenant_1"]`.
    public var sessionSettings: [String: String]

    public init(
        url: String, applicationName: String = "swift-postgres", connectTimeout: Duration = .seconds(10),
        sessionSettings: [String: String] = [:]
    ) {
        self.url = url
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
        self.sessionSettings = sessionSettings
    }

    /// The URL with any password replaced by `***`, for logs and error messages.
    public var redactedURL: String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "<url>"
    }
}
