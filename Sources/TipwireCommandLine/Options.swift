import ArgumentParser
import Foundation
import Kafka
import Logging
import TipwireStore

/// Options shared by commands that talk to PostgreSQL.
public struct DatabaseOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(name: .customLong("database-url"), help: "PostgreSQL URL (env TIPWIRE_DATABASE_URL), e.g. postgres://user@127.0.0.1:5432/tipwire.")
    public var databaseURLFlag: String?

    @Option(name: .customLong("db-pool-size"), help: "Connections in the pool (env TIPWIRE_DB_POOL_SIZE, default 20).")
    public var poolSizeFlag: Int?

    public func databaseURL() throws -> String {
        guard let url = databaseURLFlag ?? Environment.value("TIPWIRE_DATABASE_URL") else {
            throw ValidationError("no database: pass --database-url or set TIPWIRE_DATABASE_URL (deploy/local/up writes it to .tipwire/env)")
        }
        return url
    }

    public var poolSize: Int {
        get throws { try poolSizeFlag ?? Environment.number("TIPWIRE_DB_POOL_SIZE") ?? 20 }
    }

    public func validate() throws {
        try checkRange(poolSize, 1...1000, "--db-pool-size (or TIPWIRE_DB_POOL_SIZE)")
    }

    /// The database at the configured URL with a pool of `poolSize` (the flag's, when not given).
    public func database(poolSize: Int? = nil) throws -> TipwireDatabase {
        try TipwireDatabase(url: databaseURL(), poolSize: poolSize ?? self.poolSize, logger: Logger(label: "tipwire.db"))
    }

    /// Runs a one-off command's `body` with one database connection's worth of stores, closed after.
    /// The command acts as the pipeline (`DatabaseScope.system`): an operator's tool sees every party's rows.
    public func withStores<T>(_ body: (TipwireStores) async throws -> T) async throws -> T {
        let stores = try stores(poolSize: 1, links: .idsOnly)
        defer { stores.database.close() }
        return try await DatabaseScope.system { try await body(stores) }
    }

    /// Every store over `database(poolSize:)`. A command's reports are current: they fold the stale days first.
    public func stores(poolSize: Int? = nil, links: DocumentLinks) throws -> TipwireStores {
        TipwireStores(database: try database(poolSize: poolSize), links: links, statsFoldFirst: true)
    }
}

/// Numbers from flags and the environment are range-checked before anything starts, as request values
/// are: none may reach a trapping conversion (a partition count becomes a C `int32_t`).
public func checkRange<T: Comparable>(_ value: T, _ range: ClosedRange<T>, _ name: String) throws {
    if !range.contains(value) { throw ValidationError("\(name) must be from \(range.lowerBound) to \(range.upperBound), not \(value)") }
}

/// Options for logging.
public struct LoggingOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env TIPWIRE_LOG_LEVEL, default info).")
    public var levelFlag: String?

    @Option(name: .customLong("log-format"), help: "json or text (env TIPWIRE_LOG_FORMAT; default json, or text on a terminal).")
    public var formatFlag: String?

    public func bootstrap() throws {
        let levelText = levelFlag ?? Environment.value("TIPWIRE_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else { throw ValidationError("unknown log level '\(levelText)'") }
        let format = formatFlag ?? Environment.value("TIPWIRE_LOG_FORMAT") ?? (isatty(STDERR_FILENO) == 1 ? "text" : "json")
        guard format == "json" || format == "text" else { throw ValidationError("log format must be json or text, not '\(format)'") }
        Self.bootstrap(level: level, json: format == "json")
    }

    /// Every logger of the process writes at `level` and up, as JSON lines or as text. Once per process.
    public static func bootstrap(level: Logger.Level, json: Bool) {
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

public enum Environment {
    public static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// The variable read as a number; nil when it is unset or empty. A value that is not a number is refused
    /// with the variable's name, rather than silently giving way to the default.
    public static func number<T: LosslessStringConvertible>(_ name: String) throws -> T? {
        guard let text = value(name) else { return nil }
        guard let number = T(text) else { throw ValidationError("\(name) must be a number, not '\(text)'") }
        return number
    }
}

/// Where tipwire's Kafka clients connect, and how: every librdkafka setting they share.
public struct KafkaEndpoint: Sendable {
    public var brokers: String
    /// Settings for every client (SASL, TLS, …), already checked with librdkafka.
    public var settings: [String: String]

    public init(brokers: String, settings: [String: String]) {
        self.brokers = brokers
        self.settings = settings
    }
}

/// Options shared by commands with Kafka clients: the brokers, and any librdkafka setting (SASL/SCRAM,
/// TLS with a CA, client certificates) from a properties file, the environment and flags, in that order
/// of precedence from lowest to highest. Every setting is checked at start-up.
public struct KafkaOptions: ParsableArguments, Sendable {
    public init() {}

    @Option(name: .customLong("kafka-brokers"), help: "Kafka bootstrap servers (env TIPWIRE_KAFKA_BROKERS).")
    public var brokersFlag: String?

    @Option(
        name: .customLong("kafka-config"),
        help: ArgumentHelp(
            "A properties file of librdkafka settings, one key=value per line (env TIPWIRE_KAFKA_CONFIG).",
            discussion: "e.g. security.protocol=SASL_SSL, sasl.mechanism=SCRAM-SHA-512, sasl.username, sasl.password, ssl.ca.location."))
    public var configFile: String?

    @Option(
        name: .customLong("kafka-setting"),
        help: "One librdkafka setting as KEY=VALUE; repeat for more (env TIPWIRE_KAFKA_SETTINGS, KEY=VALUE;KEY=VALUE). Wins over the file.")
    public var settingFlags: [String] = []

    public var brokers: String? { brokersFlag ?? Environment.value("TIPWIRE_KAFKA_BROKERS") }

    /// The brokers and settings, or a usage error naming what is missing or which setting is bad and where it came from.
    public func endpoint(brokers explicit: String? = nil) throws -> KafkaEndpoint {
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

/// A setting that cannot work, found before anything starts, or an input a command cannot use: printed as
/// `Error: …`, without the usage text a mistyped flag gets.
public struct StartupError: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) { self.description = description }
}

/// The migrations directory: `--migrations`, TIPWIRE_MIGRATIONS_DIR, or `schemas/sql` found from here.
public func migrationsDirectory(_ flag: String?) -> URL {
    if let path = flag ?? Environment.value("TIPWIRE_MIGRATIONS_DIR") { return URL(fileURLWithPath: path) }
    return TipwireDatabase.defaultMigrationsDirectory()
}

/// tipwire's version, shown by `--version` and `/healthz`.
public enum TipwireVersion {
    public static let current = "0.1.0"
}
