import CRdKafka
import Foundation

/// librdkafka client settings (any of them: `security.protocol`, `sasl.mechanism`, `sasl.username`,
/// `ssl.ca.location`, `ssl.certificate.location`, …) gathered from several places, each remembering
/// where it came from, so a bad one is reported by name and origin before any client starts.
public struct KafkaSettings: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: String
        /// Where it was read: `--kafka-setting`, `TIPWIRE_KAFKA_SETTINGS`, `/etc/tipwire/kafka.properties:4`.
        public var origin: String
    }

    public private(set) var entries: [Entry] = []

    public init() {}

    /// Adds a setting; a later setting of the same key wins.
    public mutating func set(_ key: String, _ value: String, origin: String) {
        entries.removeAll { $0.key == key }
        entries.append(Entry(key: key, value: value, origin: origin))
    }

    /// The settings as librdkafka takes them.
    public var values: [String: String] {
        Dictionary(entries.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
    }

    /// Reads Java-style properties text (`key=value` per line; `#` and `!` start comments), as Kafka's own
    /// tools and kcat's `-F` read them.
    public mutating func read(properties text: String, origin: String) throws(KafkaError) {
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            try add(line, origin: "\(origin):\(index + 1)")
        }
    }

    /// Reads `key=value` pairs separated by `separator` (an environment variable's list).
    public mutating func read(list text: String, separator: Character = ";", origin: String) throws(KafkaError) {
        for pair in text.split(separator: separator) where !pair.trimmingCharacters(in: .whitespaces).isEmpty {
            try add(pair.trimmingCharacters(in: .whitespaces), origin: origin)
        }
    }

    /// Reads one `key=value`.
    public mutating func add(_ pair: String, origin: String) throws(KafkaError) {
        guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
            throw KafkaError(configuration: "'\(pair.prefix(80))' is not key=value", context: "Kafka setting from \(origin)")
        }
        set(
            pair[..<equals].trimmingCharacters(in: .whitespaces), String(pair[pair.index(after: equals)...]).trimmingCharacters(in: .whitespaces),
            origin: origin)
    }

    /// Checks every setting's name and value with librdkafka, then builds (and at once destroys) a client
    /// with all of them together, which reads TLS files and checks SASL support, without connecting.
    /// `base` holds the settings tipwire sets itself (bootstrap servers, client id).
    public func validate(with base: [String: String] = [:]) throws(KafkaError) {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError(configuration: "out of memory", context: "checking Kafka settings") }
        // The reason comes back in the error buffer; librdkafka's own log lines would only repeat it.
        rd_kafka_conf_set_log_cb(conf, nil)
        var errorBuffer = [CChar](repeating: 0, count: 512)
        for (key, value) in base.sorted(by: { $0.key < $1.key })
        where rd_kafka_conf_set(conf, key, value, &errorBuffer, errorBuffer.count) != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(configuration: cBufferText(errorBuffer), context: "Kafka setting \(key)")
        }
        for entry in entries where rd_kafka_conf_set(conf, entry.key, entry.value, &errorBuffer, errorBuffer.count) != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(configuration: cBufferText(errorBuffer), context: "Kafka setting \(entry.key) (from \(entry.origin))")
        }
        // rd_kafka_new takes ownership of conf on success only.
        guard let handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorBuffer, errorBuffer.count) else {
            rd_kafka_conf_destroy(conf)
            let origins = Array(Set(entries.map(\.origin))).sorted().joined(separator: ", ")
            throw KafkaError(
                configuration: cBufferText(errorBuffer), context: "Kafka settings together (from \(origins.isEmpty ? "defaults" : origins))")
        }
        rd_kafka_destroy(handle)
    }
}
