import ArgumentParser
import Foundation
import Postgres
import TipwireCore
import TipwireStore

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke API tokens.",
        discussion: """
            A token is shown once, when created; only its SHA-256 is stored. Each has one role and, for
            liaison, agency and coordinator, one newsroom or agency.

            Examples:
              tipwire token create --role liaison --scope tuoitre --label "Nguyễn Văn A"
              tipwire token create --role agency --scope so-nnmt
              tipwire token create --role admin
              tipwire token list
              tipwire token revoke 7d0c…
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it (once).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "liaison, agency, coordinator, auditor or admin.")
        var role: String
        @Option(help: "The newsroom (liaison) or agency (agency, coordinator) code.")
        var scope: String?
        @Option(help: "Who or what the token is for.")
        var label = ""

        func run() async throws {
            guard let role = Role(rawValue: role) else {
                throw ValidationError("--role must be one of: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var code: PartyCode?
            if let scope {
                guard let parsed = PartyCode(rawValue: scope) else { throw ValidationError("--scope: \(PartyCode.validate(scope) ?? "invalid")") }
                code = parsed
            }
            let db = TipwireDatabase(url: try database.databaseURL(), poolSize: 1)
            defer { db.client.close() }
            do {
                let (token, record) = try await TokenStore(client: db.client).create(role: role, scope: code, label: label)
                print(token.text)
                FileHandle.standardError.write(Data("created token \(record.id.lowercased) (\(role.rawValue)\(code.map { " for \($0)" } ?? "")); it is not shown again\n".utf8))
            } catch let error as TokenStore.TokenError {
                throw ValidationError(error.description)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Include revoked tokens.")
        var all = false
        @Flag(help: "JSON lines instead of a table.")
        var json = false

        func run() async throws {
            let db = TipwireDatabase(url: try database.databaseURL(), poolSize: 1)
            defer { db.client.close() }
            let tokens = try await TokenStore(client: db.client).list(includeRevoked: all)
            if json {
                for token in tokens { print(String(decoding: try TipwireJSON.encode(token), as: UTF8.self)) }
                return
            }
            print("ID                                    ROLE         SCOPE           CREATED                   REVOKED                   LABEL")
            for token in tokens {
                let scope = (token.newsroom ?? token.agency)?.rawValue ?? "-"
                print([
                    token.id.lowercased, pad(token.role.rawValue, 12), pad(scope, 15), pad(formatTimestamp(token.createdAt), 25),
                    pad(token.revokedAt.map(formatTimestamp) ?? "-", 25), token.label,
                ].joined(separator: " "))
            }
        }

        func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id; it stops working at once.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The token's id (from `tipwire token list`).")
        var id: String

        func run() async throws {
            guard let uuid = UUID(uuidString: id) else { throw ValidationError("'\(id)' is not a token id (a UUID)") }
            let db = TipwireDatabase(url: try database.databaseURL(), poolSize: 1)
            defer { db.client.close() }
            guard try await TokenStore(client: db.client).revoke(id: uuid) else {
                throw ValidationError("no unrevoked token has id \(uuid.lowercased)")
            }
            print("revoked \(uuid.lowercased)")
        }
    }
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Demo data.", subcommands: [Seed.self])

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the demo newsrooms, agencies, routing rules and one token per principal.",
            discussion: """
                Newsrooms tuoitre and vnexpress; agencies thanh-tra-tp (the coordinator), so-nnmt, so-xay-dung,
                ubnd-cau-giay, ubnd-dong-da, cong-an-tp and vks-tp; jurisdictions ha-noi, cau-giay and dong-da.
                Prints the tokens as TIPWIRE_TOKEN_<ROLE>_<CODE>=… lines (deploy/local/up keeps them in
                .tipwire/env). Parties that exist are kept; each run creates new tokens.
                """)
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let db = TipwireDatabase(url: try database.databaseURL(), poolSize: 1)
            defer { db.client.close() }
            try await DemoData.seedParties(db.client)
            for (name, token) in try await DemoData.createTokens(TokenStore(client: db.client)) {
                print("\(name)=\(token.text)")
            }
        }
    }
}
