import ArgumentParser
import Foundation
import TipwireCommandLine
import TipwireStore

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The tamper-evident audit log: check its chain, or print its head for publication.",
        discussion: """
            Every token created, rotated or revoked, document downloaded, deadline policy or reporting calendar changed, task
            reassigned or closed, source key registered, source envelope read, disclosure request filed or
            decided, and protection case opened, acknowledged or resolved is a row of audit_log, written in
            the same transaction as the action. Each row's
            hash covers the previous row's hash and the row's own content, so a changed, removed or
            inserted row breaks the chain from there on. Publish `tipwire audit head` out of band (e.g. daily):
            a rewritten chain then no longer ends in a head you published.
            """,
        subcommands: [Verify.self, Head.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the whole chain; exit 1 naming the first row that breaks it, 0 when every row holds.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Print progress to standard error every 10,000 rows.")
        var progress = false

        func run() async throws {
            let verification = try await database.withStores { stores in
                try await stores.audit.verify { checked in
                    if progress { FileHandle.standardError.write(Data("checked \(checked) rows\n".utf8)) }
                }
            }
            switch verification {
            case .intact(let rows, let head):
                print("audit log intact: \(rows) rows" + (head.map { "; head \($0.id) \($0.hex)" } ?? ""))
            case .broken(let id, let reason):
                print("audit log BROKEN at row \(id): \(reason)")
                throw ExitCode(1)
            }
        }
    }

    struct Head: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the newest row's id and hash (hex), to publish out of band.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            guard let head = try await database.withStores({ try await $0.audit.head() }) else {
                print("audit log empty")
                return
            }
            print("\(head.id) \(head.hex)")
        }
    }
}
