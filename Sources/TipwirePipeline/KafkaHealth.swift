import Kafka

/// Checks that the Kafka cluster answers a metadata request.
public struct KafkaHealth: Sendable {
    private let admin: KafkaAdmin
    public let bootstrapServers: String

    public init(bootstrapServers: String, settings: [String: String] = [:]) throws {
        self.bootstrapServers = bootstrapServers
        admin = try KafkaAdmin(bootstrapServers: bootstrapServers, settings: settings)
    }

    public func check() async throws {
        _ = try await admin.listTopics(timeout: .seconds(2))
    }
}
