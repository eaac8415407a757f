import ArgumentParser
import Foundation
import Kafka
import Logging
import TipwireStore

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

    func validate() throws {
        try checkRange(poolSize, 1...1000, "--db-pool-size (or TIPWIRE_DB_POOL_SIZE)")
    }

    /// The database at the configured URL with a pool of `poolSize` (the flag's, when not given).
    func database(poolSize: Int? = nil) throws -> TipwireDatabase {
        TipwireDatabase(url: try databaseURL(), poolSize: poolSize ?? self.poolSize, logger: Logger(label: "tipwire.db"))
    }

    /// Every store over `database(poolSize:)`.
    func stores(poolSize: Int? = nil, links: DocumentLinks) throws -> TipwireStores {
        TipwireStores(database: try database(poolSize: poolSize), links: links)
    }
}

/// Numbers from flags and the environment are range-checked before anything starts, as request values
/// are: none may reach a trapping conversion (a partition count becomes a C `int32_t`).
func checkRange<T: Comparable>(_ value: T, _ range: ClosedRange<T>, _ name: String) throws {
    if !range.contains(value) { throw ValidationError("\(name) must be from \(range.lowerBound) to \(range.upperBound), not \(value)") }
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

/// Where tipwire's Kafka clients connect, and how: every librdkafka setting they share.
struct KafkaEndpoint: Sendable {
    var brokers: String
    /// Settings for every client (SASL, TLS, …), already checked with librdkafka.
    var settings: [String: String]
}

/// Options shared by commands with Kafka clients: the brokers, and any librdkafka setting (SASL/SCRAM,
/// TLS with a CA, client certificates) from a properties file, the environment and flags, in that order
/// of precedence from lowest to highest. Every setting is checked at start-up.
struct KafkaOptions: ParsableArguments {
    @Option(name: .customLong("kafka-brokers"), help: "Kafka bootstrap servers (env TIPWIRE_KAFKA_BROKERS).")
    var brokersFlag: String?

    @Option(
        name: .customLong("kafka-config"),
        help: ArgumentHelp(
            "A properties file of librdkafka settings, one key=value per line (env TIPWIRE_KAFKA_CONFIG).",
            discussion: "e.g. security.protocol=SASL_SSL, sasl.mechanism=SCRAM-SHA-512, sasl.username, sasl.password, ssl.ca.location."))
    var configFile: String?

    @Option(
        name: .customLong("kafka-setting"),
        help: "One librdkafka setting as KEY=VALUE; repeat for more (env TIPWIRE_KAFKA_SETTINGS, KEY=VALUE;KEY=VALUE). Wins over the file.")
    var settingFlags: [String] = []

    var brokers: String? { brokersFlag ?? Environment.value("TIPWIRE_KAFKA_BROKERS") }

    /// The brokers and settings, or a usage error naming what is missing or which setting is bad and where it came from.
    func endpoint(brokers explicit: String? = nil) throws -> KafkaEndpoint {
        guard let brokers = explicit ?? brokers else {
            throw ValidationError("no Kafka: pass --kafka-brokers or set TIPWIRE_KAFKA_BROKERS (deploy/local/up writes it to .tipwire/env)")
        }
        var settings = KafkaSettings()
        do {
            if let path = configFile ?? Environment.value("TIPWIRE_KAFKA_CONFIG") {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw StartupError(description: "--kafka-config: cannot read \(path)")
                }
                try settings.read(properties: text, origin: path)
            }
            if let list = Environment.value("TIPWIRE_KAFKA_SETTINGS") { try settings.read(list: list, origin: "TIPWIRE_KAFKA_SETTINGS") }
            for pair in settingFlags { try settings.add(pair, origin: "--kafka-setting") }
            try settings.validate(with: ["bootstrap.servers": brokers])
        } catch let error as KafkaError {
            throw StartupError(description: "\(error.context): \(error.message)")
        }
        return KafkaEndpoint(brokers: brokers, settings: settings.values)
    }
}

/// A setting that cannot work, found before anything starts: printed as `Error: …`, without the usage text
/// a mistyped flag gets.
struct StartupError: Error, CustomStringConvertible {
    let description: String
}
