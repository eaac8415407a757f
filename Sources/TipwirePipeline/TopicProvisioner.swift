import Kafka
import Logging
import Synchronization

/// Creates topics on first use, with the configured partition count.
///
/// Against Apache Kafka this is an admin CreateTopics call; the embedded broker
/// (librdkafka's mock cluster) has no CreateTopics handler, so there it creates the
/// topic in-process instead.
public final class TopicProvisioner: Sendable {
    private let create: @Sendable (String) async throws -> Void
    private let known = Mutex(Set<String>())

    public init(create: @escaping @Sendable (String) async throws -> Void) {
        self.create = create
    }

    public static func embedded(_ broker: EmbeddedBroker, partitions: Int) -> TopicProvisioner {
        TopicProvisioner { topic in
            // An existing topic (made earlier, or auto-created by a consumer's metadata request) is fine.
            try? broker.createTopic(topic, partitions: partitions)
        }
    }

    public static func kafka(_ admin: KafkaAdmin, partitions: Int, replicationFactor: Int) -> TopicProvisioner {
        TopicProvisioner { topic in
            try await admin.createTopic(topic, partitions: partitions, replicationFactor: replicationFactor, ifNotExists: true)
        }
    }

    /// Creates nothing: the topics exist already (made by an operator) or the broker auto-creates them.
    public static var existing: TopicProvisioner { TopicProvisioner { _ in } }

    /// Forgets which topics were made, so each is made again on its next use (a cluster that lost its
    /// events may have lost its topics too).
    public func forget() {
        known.withLock { $0.removeAll() }
    }

    /// Makes sure every topic exists; each is created at most once per process (or since `forget`).
    public func ensure(_ topics: some Sequence<String>) async throws {
        let missing = known.withLock { known in Set(topics).subtracting(known) }
        for topic in missing.sorted() {
            try await create(topic)
            _ = known.withLock { $0.insert(topic) }
        }
    }
}
