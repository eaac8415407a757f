import ArgumentParser
import Foundation
import TipwireCommandLine

@main
struct Tipwire: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tipwire",
        abstract: "Press-tip coordination: routes published corruption findings to responsible agencies and tracks their duties.",
        discussion: """
            Configuration comes from flags or TIPWIRE_* environment variables (flags win).
            Start everything locally with deploy/local/up; see README.md. Benchmarks are
            a separate program, tipwire-bench.

            Examples:
              tipwire dev                      API + embedded Kafka broker, migrating first
              tipwire migrate                  apply schemas/sql to TIPWIRE_DATABASE_URL
              tipwire broker --brokers 3       a standalone embedded Kafka cluster
              tipwire source keygen --newsroom tuoitre --out tuoitre-source.key
                                               a newsroom's source key pair, for sealed source envelopes
            """,
        version: TipwireVersion.current,
        subcommands: [
            Dev.self, Serve.self, Relay.self, Responses.self, Deadlines.self, Overdue.self, Agency.self, CalendarCommand.self, Migrate.self,
            Token.self, People.self, Audit.self, Source.self, Stats.self, ScorecardCommand.self, Demo.self, Broker.self, Provision.self,
        ]
    )
}

/// `text` padded with spaces to `width`, for the command line's tables (never cut).
func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
