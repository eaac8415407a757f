import ArgumentParser
import Foundation
import TipwireCommandLine
import TipwireCore
import TipwireStore

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Demo data: the parties and tokens, and a past to look at.", subcommands: [Seed.self, History.self])

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
            try await database.withStores { stores in
                try await DemoData.seedParties(stores.database.client)
                for (name, token) in try await DemoData.createTokens(stores.tokens) {
                    print("\(name)=\(token.text)")
                }
            }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a realistic past: findings, agencies' responses, deadlines, escalations.",
            discussion: """
                Simulates --days days up to now, in time order, through the same write paths as live
                traffic: findings arrive in office hours on working days; each demo agency has its own
                habits (how fast it acknowledges and resolves, how often it extends, transfers, declines,
                asks the newsroom or lets a task lie); newsrooms answer; the deadline engine raises
                reminders, overdue notices and escalations at their times; the coordinator acknowledges
                most escalations. Weekends and holidays come from the calendar (tipwire calendar list).

                Needs the demo parties (tipwire demo seed) and a database without findings. The past is
                not produced to Kafka: agencies' topics start empty. The same --seed writes the same
                history. deploy/local/up runs it once, for a year, so the dashboard opens with data.

                Examples:
                  tipwire demo history                          800 findings over the last 365 days
                  tipwire demo history --findings 200 --days 90 --seed 7
                """)
        @OptionGroup var database: DatabaseOptions

        @Option(help: "Findings to receive (1 to 100000).")
        var findings = 800

        @Option(help: "Days of history, up to now (1 to 1500).")
        var days = 365

        @Option(help: "The random seed: the same seed writes the same history.")
        var seed: UInt64 = 31

        func validate() throws {
            try checkRange(findings, 1...100_000, "--findings")
            try checkRange(days, 1...1_500, "--days")
        }

        func run() async throws {
            let started = Date()
            let summary = try await database.withStores { stores in
                do {
                    return try await DemoHistory(stores: stores, options: .init(findings: findings, days: days, until: Date(), seed: seed))
                        .run { done, total in
                            if done % 100 == 0 || done == total {
                                FileHandle.standardError.write(Data("demo history: \(done) of \(total) findings received\n".utf8))
                            }
                        }
                } catch let refusal as DemoHistory.Refusal {
                    throw ValidationError(refusal.description)
                }
            }
            print(
                """
                demo history: \(summary.findings) findings, \(summary.tasks) tasks (\(summary.openTasks) still open), \
                \(summary.actions) agency actions (\(summary.refusedActions) refused by the lifecycle), \
                \(summary.requestsAnswered) newsroom answers, \(summary.rungs) reminders, overdue notices and escalations \
                (\(summary.escalationsAcknowledged) acknowledged) in \(Int(Date().timeIntervalSince(started))) s
                """)
        }
    }
}
