import ArgumentParser
import Foundation
import Postgres
import TipwireCommandLine
import TipwireCore
import TipwireStore

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list, rotate and revoke API tokens.",
        discussion: """
            A token is shown once, when created; only its SHA-256 is stored. Each has one role, for
            liaison, agency and coordinator one newsroom or agency, and names the officer who holds
            it: task events and records show that name beside the party. Every token expires (90 days
            unless --expires-in says otherwise, at most 730d); an expired token is refused with 401
            saying so. `list` shows when each was last used.

            Examples:
              tipwire token create --role liaison --scope tuoitre --holder "Nguyễn Văn A"
              tipwire token create --role agency --scope so-nnmt --holder "Trần Thị B" --expires-in 30d
              tipwire token create --role admin --holder "Lê Văn C" --label "on-call"
              tipwire token list
              tipwire token rotate 7d0c… --grace 1h   # a new token; the old one stops in an hour
              tipwire token revoke 7d0c…
            """,
        subcommands: [Create.self, List.self, Rotate.self, Revoke.self])

    /// `--expires-in` as seconds, or a usage error naming the flag.
    static func lifetime(_ text: String, flag: String) throws -> TimeInterval {
        if let problem = TokenLifetime.problem(text) { throw ValidationError("\(flag) \(problem)") }
        return TokenLifetime.parse(text) ?? TokenLifetime.default
    }

    /// Issues a token (`create`, `rotate`) and prints it, once; a refusal of the store's is a usage error.
    static func issue(verb: String, _ make: () async throws -> (BearerToken, TokenRecord)) async throws {
        do {
            let (token, record) = try await make()
            printCreated(token, record, verb: verb)
        } catch let error as TokenStore.TokenError {
            throw ValidationError(error.description)
        }
    }

    static func printCreated(_ token: BearerToken, _ record: TokenRecord, verb: String) {
        print(token.text)
        let scope = (record.newsroom ?? record.agency).map { " for \($0)" } ?? ""
        FileHandle.standardError.write(
            Data(
                "\(verb) token \(record.id.lowercased) (\(record.role.rawValue)\(scope), held by \(record.holder), expires \(formatTimestamp(record.expiresAt))); it is not shown again\n"
                    .utf8))
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it (once).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "liaison, agency, coordinator, auditor or admin.")
        var role: String
        @Option(help: "The newsroom (liaison) or agency (agency, coordinator) code.")
        var scope: String?
        @Option(parsing: .unconditional, help: "The officer who holds the token, by name (shown in task events and records).")
        var holder: String
        @Option(parsing: .unconditional, help: "What the token is for (e.g. the system it runs in).")
        var label = ""
        @Option(help: "How long the token lives: 90d, 12h, 30m (at most 730d).")
        var expiresIn = "90d"

        func run() async throws {
            guard let role = Role(rawValue: role) else {
                throw ValidationError("--role must be one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var code: PartyCode?
            if let scope {
                guard let parsed = PartyCode(rawValue: scope) else { throw ValidationError("--scope: \(PartyCode.validate(scope) ?? "invalid")") }
                code = parsed
            }
            let lifetime = try Token.lifetime(expiresIn, flag: "--expires-in")
            try await database.withStores { stores in
                try await Token.issue(verb: "created") {
                    try await stores.tokens.create(role: role, scope: code, holder: holder, label: label, lifetime: lifetime)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List live tokens (never their secrets): holder, expiry, last use.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Include revoked and expired tokens.")
        var all = false
        @Flag(help: "JSON lines instead of a table.")
        var json = false

        func run() async throws {
            try await database.withStores { stores in
                let tokens = try await stores.tokens.list(includeRevoked: all)
                if json {
                    for token in tokens { print(String(decoding: try TipwireJSON.encode(token), as: UTF8.self)) }
                    return
                }
                print(
                    "ID                                    ROLE         SCOPE           EXPIRES                   LAST USED                 REVOKED                   HOLDER (LABEL)"
                )
                for token in tokens {
                    let scope = (token.newsroom ?? token.agency)?.rawValue ?? "-"
                    print(
                        [
                            token.id.lowercased, pad(token.role.rawValue, 12), pad(scope, 15), pad(formatTimestamp(token.expiresAt), 25),
                            pad(token.lastUsedAt.map(formatTimestamp) ?? "never", 25), pad(token.revokedAt.map(formatTimestamp) ?? "-", 25),
                            token.holder + (token.label.isEmpty ? "" : " (\(token.label))"),
                        ].joined(separator: " "))
                }
            }
        }

    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a token with a new one (same role, scope and holder) and print it (once).",
            discussion: "The old token keeps working for --grace (default 0: it stops at once), so its holder can switch clients over.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The token's id (from `tipwire token list`).")
        var id: String
        @Option(help: "How long the new token lives: 90d, 12h, 30m (at most 730d).")
        var expiresIn = "90d"
        @Option(help: "How long the old token keeps working: 0m, 1h, 1d.")
        var grace = "0m"

        func run() async throws {
            guard let uuid = UUID(uuidString: id) else { throw ValidationError("'\(id)' is not a token id (a UUID)") }
            let lifetime = try Token.lifetime(expiresIn, flag: "--expires-in")
            let graceSeconds = grace == "0m" || grace == "0" ? 0 : try Token.lifetime(grace, flag: "--grace")
            try await database.withStores { stores in
                try await Token.issue(verb: "rotated \(uuid.lowercased) into") {
                    try await stores.tokens.rotate(id: uuid, lifetime: lifetime, grace: graceSeconds)
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id; it stops working at once.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The token's id (from `tipwire token list`).")
        var id: String

        func run() async throws {
            guard let uuid = UUID(uuidString: id) else { throw ValidationError("'\(id)' is not a token id (a UUID)") }
            try await database.withStores { stores in
                guard try await stores.tokens.revoke(id: uuid) else {
                    throw ValidationError("no unrevoked token has id \(uuid.lowercased)")
                }
                print("revoked \(uuid.lowercased)")
            }
        }
    }
}
