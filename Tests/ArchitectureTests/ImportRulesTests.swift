import Foundation
import Testing

/// The import rules of `docs/architecture.md`, checked against every file in `Sources/`: the table there
/// is the one statement of them, and this test is what holds the code to it.
@Suite("Import rules")
struct ImportRulesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// Modules of the toolchain every module may use.
    static let standard: Set<String> = ["Foundation", "Dispatch", "Synchronization"]

    /// Module → what it may import, from the table's rows: `| `A`, `B` | job | `X`, `Y` |`.
    static func rules() throws -> [String: Set<String>] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
        var rules: [String: Set<String>] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4 else { continue }
            for module in names(in: cells[1]) { rules[module] = Set(names(in: cells[3])) }
        }
        return rules
    }

    /// The names in backticks in a table cell.
    static func names(in cell: String) -> [String] {
        cell.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
    }

    /// The modules a Swift file imports (`import X`, `public import X`, `@testable import X`, `import struct X.Y`).
    static func imports(of file: URL) throws -> [String] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ").map(String.init)
            guard let index = words.firstIndex(of: "import"), index + 1 < words.count,
                words[..<index].allSatisfy({ ["public", "internal", "package", "private", "fileprivate", "@testable", "@_exported"].contains($0) })
            else { return nil }
            let kinds: Set<String> = ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"]
            let target = kinds.contains(words[index + 1]) && index + 2 < words.count ? words[index + 2] : words[index + 1]
            return String(target.split(separator: ".")[0])
        }
    }

    static func modules() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources").path).sorted()
    }

    @Test func everyModuleInSourcesHasARowInTheArchitectureTable() throws {
        let rules = try Self.rules()
        #expect(!rules.isEmpty, "docs/architecture.md has no module table")
        for module in try Self.modules() {
            #expect(rules[module] != nil, "Sources/\(module) is not in the module table of docs/architecture.md")
        }
    }

    @Test func everyImportIsOneTheArchitectureAllows() throws {
        let rules = try Self.rules()
        for module in try Self.modules() {
            guard let allowed = rules[module] else { continue }
            let directory = Self.root.appendingPathComponent("Sources/\(module)")
            guard let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { continue }
            for case let file as URL in files where file.pathExtension == "swift" {
                for imported in try Self.imports(of: file) where !allowed.contains(imported) && !Self.standard.contains(imported) {
                    Issue.record(
                        "Sources/\(module)/\(file.lastPathComponent) imports \(imported), which docs/architecture.md does not allow \(module)")
                }
            }
        }
    }

    @Test func theAPIAndThePipelineKnowNeitherEachOtherNorTheClients() throws {
        let rules = try Self.rules()
        #expect(rules["TipwireAPI"]?.isDisjoint(with: ["TipwirePipeline", "Postgres", "Kafka"]) == true)
        #expect(rules["TipwirePipeline"]?.isDisjoint(with: ["TipwireAPI", "Postgres"]) == true)
        #expect(rules["TipwireCore"]?.isDisjoint(with: ["Postgres", "Kafka", "TipwireStore", "Hummingbird", "Logging"]) == true)
    }
}
