import ArgumentParser
import Foundation
import Logging

/// Options shared by commands that talk to PostgreSQL.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "PostgreSQL URL (env TIPWIRE_DATABASE_URL), e.g. postgres://user@127.0.0.1:5432/tipwire.")
    var databaseURLFlag: String?

    @Option(name: .customLong("db-pool-size"), help: "Connections in the pool (env TIPWIRE_DB_POOL_SIZE, default 20).")
    var poolSizeFlag: Int?

    func databaseURL() throws -> String {
        guard let url = databaseURLFlag ?? Environment.value("TIPWIRE_DATABASE_URL") else {
            throw ValidationError("no database: pass --database-url or set TIPWIRE_DATABASE_URL (deploy/local/up writes it to .tipwire/env)")
        }
        return url
    }

    var poolSize: Int { poolSizeFlag ?? Environment.value("TIPWIRE_DB_POOL_SIZE").flatMap(Int.init) ?? 20 }
}

/// Options for logging.
struct LoggingOptions: ParsableArguments {
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env TIPWIRE_LOG_LEVEL, default info).")
    var levelFlag: String?

    @Option(name: .customLong("log-format"), help: "json or text (env TIPWIRE_LOG_FORMAT; default json, or text on a terminal).")
    var formatFlag: String?

    func bootstrap() throws {
        let levelText = levelFlag ?? Environment.value("TIPWIRE_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else { throw ValidationError("unknown log level '\(levelText)'") }
        let format = formatFlag ?? Environment.value("TIPWIRE_LOG_FORMAT") ?? (isatty(STDERR_FILENO) == 1 ? "text" : "json")
        guard format == "json" || format == "text" else { throw ValidationError("log format must be json or text, not '\(format)'") }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == "json" ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
