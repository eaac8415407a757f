import ChildProcesses
import Foundation
import Postgres

/// Gives each test its own schema in the test database, so tests run in parallel.
public enum TestDatabase {
    /// The server deploy/local/test started for this run. Only its own variable: never TIPWIRE_DATABASE_URL,
    /// which in a shell that sourced `.tipwire/env` names a live stack's database.
    public static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TIPWIRE_TEST_DATABASE_URL"], !url.isEmpty else {
            throw TestSetupError(
                "no test database: set TIPWIRE_TEST_DATABASE_URL (deploy/local/test starts a throwaway PostgreSQL and sets it)")
        }
        return url
    }

    public static func withSchema<T>(
        maxConnections: Int = 4, acquireTimeout: Duration = .seconds(10),
        _ body: (PostgresClient) async throws -> T
    ) async throws -> T {
        let url = try url()
        let schema = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = PostgresClient(url: url, maxConnections: 1)
        defer { admin.close() }
        do {
            try await admin.execute("CREATE SCHEMA \(identifier: schema)")
        } catch {
            throw TestSetupError("cannot reach the test database at \(url): \(error)")
        }
        let client = PostgresClient(
            configuration: .init(
                connection: PostgresConfiguration(url: url, sessionSettings: ["search_path": schema]),
                maxConnections: maxConnections, acquireTimeout: acquireTimeout))
        do {
            let value = try await body(client)
            client.close()
            try await admin.execute("DROP SCHEMA \(identifier: schema) CASCADE")
            return value
        } catch {
            client.close()
            _ = try? await admin.execute("DROP SCHEMA \(identifier: schema) CASCADE")
            throw error
        }
    }

    /// The role tests connect as when they play the service: granted by migration 0011's
    /// `grant_service_role`, so it may not UPDATE, DELETE or TRUNCATE the audit log.
    public static let serviceRole = "tipwire_test_service"

    /// A pool over `owner`'s schema (migrated) connecting as `serviceRole`, granted what the service may do.
    public static func serviceClient(like owner: PostgresClient, grant: (String) async throws -> Void) async throws -> PostgresClient {
        // Tests run in parallel: a role another test just created is fine.
        try await owner.execute(
            """
            DO $$ BEGIN CREATE ROLE \(identifier: serviceRole) LOGIN;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$
            """)
        try await grant(serviceRole)
        var configuration = owner.configuration
        guard var components = URLComponents(string: configuration.connection.url) else {
            throw TestSetupError("the test database URL is not a postgres:// URL: \(configuration.connection.redactedURL)")
        }
        components.user = serviceRole
        components.password = nil
        configuration.connection.url = components.string ?? configuration.connection.url
        return PostgresClient(configuration: configuration)
    }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A private PostgreSQL cluster for tests that stop and start the server.
public final class TemporaryCluster: @unchecked Sendable {
    public let directory: URL
    public let port: Int
    public let binDirectory: String
    public var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    public init() async throws {
        binDirectory = try Self.findBinDirectory()
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tipwire-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try freePort()
        if getuid() == 0 { try await run("/bin/chown", ["-R", "postgres:postgres", directory.path], asPostgres: false) }
        try await run("\(binDirectory)/initdb", ["-D", dataPath, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
    }

    var dataPath: String { directory.appendingPathComponent("data").path }

    public func start() async throws {
        try await run(
            "\(binDirectory)/pg_ctl",
            [
                "-D", dataPath, "-w", "-l", directory.appendingPathComponent("log").path,
                "-o", "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off", "start",
            ])
    }

    public func stop() async throws {
        try await run("\(binDirectory)/pg_ctl", ["-D", dataPath, "-w", "-m", "fast", "stop"])
    }

    /// Stops the server if it runs (a fast shutdown, signalled to the postmaster directly, so this works
    /// from a `defer`) and removes the cluster.
    public func destroy() {
        let pidFile = directory.appendingPathComponent("data/postmaster.pid").path
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let line = text.split(separator: "\n").first,
            let pid = pid_t(line), kill(pid, SIGINT) == 0
        {
            let deadline = Date().addingTimeInterval(30)
            while kill(pid, 0) == 0, Date() < deadline { usleep(50_000) }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    private func run(_ executable: String, _ arguments: [String], asPostgres: Bool = true) async throws {
        let command = asPostgres && getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", executable] + arguments : [executable] + arguments
        let outputPath = directory.appendingPathComponent("command-\(UUID().uuidString.prefix(8)).out").path
        // To a file: `pg_ctl start` leaves the server holding its output.
        let status = try await runProgram(command[0], Array(command.dropFirst()), outputFile: outputPath).status
        guard status == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw TestSetupError("\(command.joined(separator: " ")) exited with \(status): \(text)")
        }
    }

    private static func findBinDirectory() throws -> String {
        if let configured = ProcessInfo.processInfo.environment["TIPWIRE_PG_BIN"] { return configured }
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw TestSetupError("no PostgreSQL server binaries under \(root); set TIPWIRE_PG_BIN (deploy/local/test installs them)")
        }
        return "\(root)/\(newest)/bin"
    }
}

/// A TCP port nothing listens on right now.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TestSetupError("cannot find a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
