import ArgumentParser
import Foundation
import TipwireCommandLine
import TipwireCore
import TipwireStore

struct People: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add, list, change and remove the named officers notifications reach.",
        discussion: """
            Each newsroom and agency has named people: an officer, the head, a deputy head, duty
            officers. Reminders, overdue notices and escalations go to them (docs/notifications.md).
            A person removed hears nothing more, and what was sent to them stays on record. Every
            change is audited. The same is `GET|POST /v1/people` and `GET|PUT|DELETE /v1/people/{id}`
            for an admin.

            Examples:
              tipwire people add --party agency:ubnd-cau-giay --name "Nguyễn Văn An" --email an.nv@caugiay.hanoi.gov.vn --role head
              tipwire people add --party agency:so-nnmt --name "Trần Thị Bình" --email binh@sonnmt.hanoi.gov.vn --role duty-officer --language en
              tipwire people list --party agency:ubnd-cau-giay
              tipwire people update 01a2… --email an@caugiay.hanoi.gov.vn     # the rest stays
              tipwire people remove 01a2…
            """,
        subcommands: [Add.self, List.self, Update.self, Remove.self])

    /// The person's fields, as `add` and `update` take them.
    struct Fields: ParsableArguments {
        @Option(help: "The party: agency:CODE or newsroom:CODE.")
        var party: String
        @Option(parsing: .unconditional, help: "The person's name, as messages address them.")
        var name: String
        @Option(help: "Their e-mail address (plain local@domain).")
        var email: String
        @Option(help: "officer, head, deputy-head or duty-officer.")
        var role: String
        @Option(help: "vi or en: the language of what they are sent.")
        var language = "vi"
        @Option(help: "An http or https address to receive signed JSON notifications (optional).")
        var webhook: String?

        /// The submission, checked as the API checks it; a refusal names the flag.
        func submission() throws -> PersonSubmission {
            let parts = party.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--party: agency:CODE or newsroom:CODE") }
            var object: [String: JSONValue] = [
                "party_kind": .string(parts[0]), "party": .string(parts[1]), "name": .string(name), "email": .string(email), "role": .string(role),
                "language": .string(language),
            ]
            if let webhook { object["webhook_url"] = .string(webhook) }
            do {
                return try PersonSubmission.parse(.object(object))
            } catch {
                throw People.usage(error)
            }
        }
    }

    /// A refusal as the flags that caused it.
    static func usage(_ failure: ValidationFailure) -> ValidationError {
        let flags = ["party_kind": "--party", "party": "--party", "webhook_url": "--webhook"]
        return ValidationError(failure.errors.map { "\(flags[$0.field] ?? "--" + $0.field) \($0.reason)" }.joined(separator: "; "))
    }

    static func done(_ outcome: PersonOutcome, verb: String) throws {
        switch outcome {
        case .done(let person):
            print(person.id)
            FileHandle.standardError.write(
                Data("\(verb) \(person.name) <\(person.email)>, \(person.role) of \(person.partyKind) \(person.party)\n".utf8))
        case .notFound: throw ValidationError("no such person (or already removed)")
        case .rejected(let failure): throw usage(failure)
        }
    }

    static func id(_ text: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw ValidationError("the person's id is a UUID, as `tipwire people list` shows it") }
        return id
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a person to a party; print their id.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var fields: Fields

        func run() async throws {
            let person = try fields.submission()
            try await database.withStores { try People.done(try await $0.people.add(person, by: "cli"), verb: "added") }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a person's details; what is not given stays (their party always does).")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The person's id.") var id: String
        @Option(parsing: .unconditional, help: "A new name.") var name: String?
        @Option(help: "A new e-mail address.") var email: String?
        @Option(help: "A new role: officer, head, deputy-head or duty-officer.") var role: String?
        @Option(help: "A new language: vi or en.") var language: String?
        @Option(help: "A new webhook address (http or https); --no-webhook removes it.") var webhook: String?
        @Flag(help: "Remove the person's webhook.") var noWebhook = false

        func run() async throws {
            let id = try People.id(id)
            try await database.withStores { stores in
                guard let current = try await stores.people.find(id), current.removedAt == nil else {
                    throw ValidationError("no such person (or already removed)")
                }
                var object: [String: JSONValue] = [
                    "party_kind": .string(current.partyKind), "party": .string(current.party), "name": .string(name ?? current.name),
                    "email": .string(email ?? current.email), "role": .string(role ?? current.role),
                    "language": .string(language ?? current.language),
                ]
                if let kept = noWebhook ? nil : webhook ?? current.webhookURL { object["webhook_url"] = .string(kept) }
                let person: PersonSubmission
                do {
                    person = try PersonSubmission.parse(.object(object))
                } catch let failure as ValidationFailure {
                    throw People.usage(failure)
                }
                try People.done(try await stores.people.replace(id, with: person, by: "cli"), verb: "changed")
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a person: they hear nothing more; what they were sent stays.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The person's id.") var id: String

        func run() async throws {
            let id = try People.id(id)
            try await database.withStores { try People.done(try await $0.people.remove(id, by: "cli"), verb: "removed") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the people, by party then name.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only this party: agency:CODE or newsroom:CODE.") var party: String?
        @Flag(help: "Include removed people.") var all = false
        @Flag(help: "JSON lines instead of a table.") var json = false

        func run() async throws {
            var kind: PersonSubmission.PartyKind?
            var code: PartyCode?
            if let party {
                let parts = party.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2, let parsedKind = PersonSubmission.PartyKind(rawValue: parts[0]),
                    let parsedCode = PartyCode(rawValue: parts[1])
                else { throw ValidationError("--party: agency:CODE or newsroom:CODE") }
                (kind, code) = (parsedKind, parsedCode)
            }
            try await database.withStores { stores in
                let people = try await stores.people.list(partyKind: kind, party: code, includingRemoved: all)
                if json {
                    for person in people { print(String(decoding: try TipwireJSON.encode(person), as: UTF8.self)) }
                    return
                }
                print("ID                                    PARTY                       ROLE          LANG  NAME <EMAIL>")
                for person in people {
                    let removed = person.removedAt.map { " (removed \(formatTimestamp($0)))" } ?? ""
                    print(
                        [person.id, pad("\(person.partyKind):\(person.party)", 27), pad(person.role, 13), pad(person.language, 5)].joined(
                            separator: " ")
                            + " \(person.name) <\(person.email)>\(removed)")
                }
            }
        }
    }
}
