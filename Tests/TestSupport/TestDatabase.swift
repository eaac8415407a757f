import Foundation
import Postgres

/// Gives each test its own schema in the test database, so tests run in parallel.
public enum TestDatabase {
    public static func url() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["TIPWIRE_TEST_DATABASE_URL"] ?? environment["TIPWIRE_DATABASE_URL"] else {
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

    public init() throws {
        binDirectory = try Self.findBinDirectory()
        directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("tipwire-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        port = try freePort()
        if getuid() == 0 { try run("/bin/chown", ["-R", "postgres:postgres", directory.path], asPostgres: false) }
        try run("\(binDirectory)/initdb", ["-D", dataPath, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
    }

    var dataPath: String { directory.appendingPathComponent("data").path }

    public func start() throws {
        try run("\(binDirectory)/pg_ctl", [
            "-D", dataPath, "-w", "-l", directory.appendingPathComponent("log").path,
            "-o", "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off", "start",
        ])
    }

    public func stop() throws {
        try run("\(binDirectory)/pg_ctl", ["-D", dataPath, "-w", "-m", "fast", "stop"])
    }

    public func destroy() {
        try? stop()
        try? FileManager.default.removeItem(at: directory)
    }

    private func run(_ executable: String, _ arguments: [String], asPostgres: Bool = true) throws {
        let command = asPostgres && getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", executable] + arguments : [executable] + arguments
        let outputPath = directory.appendingPathComponent("command-\(UUID().uuidString.prefix(8)).out").path
        let status = try spawnAndWait(command, outputPath: outputPath)
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

/// Runs a command with posix_spawn and waits for it. Foundation's `Process` is not
/// used because `pg_ctl start` leaves a daemon holding the descriptor Foundation
/// watches for the child's exit, so it would wait forever.
public func spawnAndWait(_ command: [String], outputPath: String) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let arguments = command.map { strdup($0) } + [nil]
    defer { arguments.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, command[0], &actions, nil, arguments, environ)
    guard spawned == 0 else { throw TestSetupError("cannot run \(command[0]): error \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1, errno == EINTR {}
    return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}
