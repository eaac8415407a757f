import Foundation

/// A directory of a test's own under the system's temporary directory.
public struct ScratchDirectory: Sendable {
    public let url: URL

    /// The path of `name` inside the directory.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Makes a directory named after `prefix`, runs `body` with it, and removes it however `body` ends.
    public static func with<T>(_ prefix: String, _ body: (ScratchDirectory) async throws -> T) async throws -> T {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: url) }
        return try await body(ScratchDirectory(url: url))
    }
}
