import Foundation
import Kafka
import Testing

/// Kafka client settings from files, lists and flags, checked with librdkafka before any client starts.
@Suite("Kafka client settings")
struct SettingsTests {
    @Test func propertiesFilesListsAndFlagsLayerWithTheLastWinning() throws {
        var settings = KafkaSettings()
        try settings.read(
            properties: """
                # SASL/SCRAM over TLS
                security.protocol=SASL_SSL
                sasl.mechanism = SCRAM-SHA-512
                ! a comment in the Java style
                sasl.username=tipwire
                sasl.password=s3cr=t

                """, origin: "/etc/tipwire/kafka.properties")
        try settings.read(list: "sasl.username=relay;client.rack=hn-1", origin: "TIPWIRE_KAFKA_SETTINGS")
        try settings.add("client.rack=hn-2", origin: "--kafka-setting")
        #expect(
            settings.values == [
                "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "relay", "sasl.password": "s3cr=t",
                "client.rack": "hn-2",
            ])
        #expect(settings.entries.first { $0.key == "sasl.mechanism" }?.origin == "/etc/tipwire/kafka.properties:3")
        #expect(settings.entries.first { $0.key == "client.rack" }?.origin == "--kafka-setting")
    }

    @Test func aBadSettingIsNamedWithWhereItCameFrom() throws {
        var unknown = KafkaSettings()
        try unknown.read(properties: "security.protocol=SSL\nsasl.mechanisms.typo=PLAIN\n", origin: "kafka.properties")
        let error = try #require(throws: KafkaError.self) { try unknown.validate(with: ["bootstrap.servers": "127.0.0.1:9092"]) }
        #expect(error.context == "Kafka setting sasl.mechanisms.typo (from kafka.properties:2)")

        var badValue = KafkaSettings()
        try badValue.add("security.protocol=SASL_SSLX", origin: "--kafka-setting")
        #expect(throws: KafkaError.self) { try badValue.validate() }

        // Settings valid one by one but not together: a CA file that is not there.
        var missingFile = KafkaSettings()
        try missingFile.read(list: "security.protocol=SSL;ssl.ca.location=/nonexistent/ca.pem", origin: "TIPWIRE_KAFKA_SETTINGS")
        let together = try #require(throws: KafkaError.self) { try missingFile.validate(with: ["bootstrap.servers": "127.0.0.1:9092"]) }
        #expect(together.context.contains("TIPWIRE_KAFKA_SETTINGS"))
        #expect(together.message.contains("ca"))

        var malformed = KafkaSettings()
        #expect(throws: KafkaError.self) { try malformed.read(list: "no-equals-sign", origin: "TIPWIRE_KAFKA_SETTINGS") }

        var fine = KafkaSettings()
        try fine.read(list: "security.protocol=SASL_PLAINTEXT;sasl.mechanism=SCRAM-SHA-256;sasl.username=u;sasl.password=p", origin: "env")
        try fine.validate(with: ["bootstrap.servers": "127.0.0.1:9092"])
    }
}
