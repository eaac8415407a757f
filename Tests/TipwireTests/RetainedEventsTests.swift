import Foundation
import Kafka
import Postgres
import TestSupport
import Testing
import TipwireCore
import TipwirePipeline
import TipwireStore

/// Nothing lost when Kafka forgets (docs/adr/0008-retained-events.md): the relay keeps what it delivered and
/// produces it again when the cluster lacks it.
@Suite("Retained events produced again when Kafka forgets", .timeLimit(.minutes(5)))
struct RetainedEventsTests {
    static let watched = ["tipwire.findings", "tipwire.tasks.so-nnmt"]

    @Test func aFreshBrokerReceivesEveryEventDeliveredBeforeItInOrderAndBeforeNewOnes() async throws {
        try await Pipeline.with { pipeline in
            try await pipeline.whileRunning(pipeline.relay()) {
                for _ in 0..<3 { _ = try await pipeline.submit() }
                try await pipeline.waitUntilSent()
            }
            // The embedded broker goes, with everything it held (as `deploy/local/down` and `up` do), and a
            // fresh one takes its place. A fresh mock cluster may get the same cluster id (librdkafka derives
            // it from its address); the test makes it so, so only the partitions' high watermarks can tell.
            pipeline.broker.shutdown()
            let fresh = try EmbeddedBroker(brokers: 1, logger: quietLogger)
            defer { fresh.shutdown() }
            let restarted = Pipeline(fixture: pipeline.fixture, broker: fresh)
            let producer = try restarted.producer()
            try await pipeline.fixture.stores.outbox.recordCluster(try await producer.clusterID(), at: Date())
            await producer.shutdown(timeout: .seconds(5))
            let late = try await restarted.whileRunning(restarted.relay()) {
                let view = try await restarted.submit()
                try await restarted.waitUntilSent()
                return view
            }

            let delivered = try await pipeline.fixture.client.query(
                "SELECT ce_id FROM outbox_deliveries WHERE topic = ANY(\(Self.watched)) ORDER BY outbox_id"
            ).decodeColumn(UUID.self).map { $0.uuidString.lowercased() }
            #expect(delivered.count == 8, "4 findings, each with a task for so-nnmt")
            let consumer = try restarted.consumer(Self.watched)
            let messages = try await consume(consumer, count: delivered.count)
            await consumer.close()
            #expect(messages.compactMap { $0.headerText("ce_id") }.sorted() == delivered.sorted(), "every event, once each")
            for topic in Self.watched {
                #expect(try await restarted.messageCount(topic) == 4, "\(topic) holds each event once")
            }
            // Made by the relay with its own partition count, not by the broker when first asked about them.
            let admin = try KafkaAdmin(bootstrapServers: fresh.bootstrapServers, logger: quietLogger)
            let made = try await admin.listTopics().filter { Self.watched.contains($0.name) }
            #expect(made.map(\.partitions) == [3, 3])
            // In each partition, events come in the order they were first produced, the new finding's last.
            for partition in Set(messages.map { "\($0.topic)/\($0.partition)" }) {
                let inPartition = messages.filter { "\($0.topic)/\($0.partition)" == partition }.sorted { $0.offset < $1.offset }
                let order = inPartition.compactMap { $0.headerText("ce_id") }.compactMap { delivered.firstIndex(of: $0) }
                #expect(order == order.sorted(), "\(partition) in the original order")
                if let last = inPartition.last, inPartition.contains(where: { $0.keyString == late.finding.id }) {
                    #expect(last.keyString == late.finding.id, "the finding submitted after the restart comes after the replayed ones")
                }
            }
            try await expectValidEvents(messages)
        }
    }

    @Test func aPartitionShorterThanWhatWasDeliveredToItIsFilledAgainWhileTheRelayRuns() async throws {
        try await Pipeline.with { pipeline in
            try await pipeline.whileRunning(pipeline.relay(clusterCheck: .milliseconds(300))) {
                for _ in 0..<2 { _ = try await pipeline.submit() }
                try await pipeline.waitUntilSent()
                #expect(try await pipeline.messageCount("tipwire.findings") == 2)
                // The database says more reached tipwire.findings than the topic holds: the topic lost events.
                try await pipeline.fixture.client.execute(
                    "UPDATE outbox_deliveries SET kafka_offset = kafka_offset + 100 WHERE topic = 'tipwire.findings'")
                try await eventually("the relay to produce tipwire.findings again", timeout: .seconds(30)) {
                    try await pipeline.fixture.client.query(
                        "SELECT max(kafka_offset) FROM outbox_deliveries WHERE topic = 'tipwire.findings'"
                    )[0].decode(column: 0, as: Int64.self) < 100
                }
            }
            #expect(try await pipeline.messageCount("tipwire.findings") == 4, "both findings produced again")
            #expect(try await pipeline.messageCount("tipwire.tasks.so-nnmt") == 2, "a topic that lost nothing is left alone")
            let consumer = try pipeline.consumer(["tipwire.findings"])
            let messages = try await consume(consumer, count: 4)
            await consumer.close()
            #expect(Set(messages.compactMap { $0.headerText("ce_id") }).count == 2, "the same two events, twice: consumers deduplicate by ce_id")
        }
    }

    @Test func anotherClusterIDMeansEveryRetainedEventIsProducedAgain() async throws {
        try await Pipeline.with { pipeline in
            try await pipeline.whileRunning(pipeline.relay()) {
                _ = try await pipeline.submit()
                try await pipeline.waitUntilSent()
            }
            let outbox = pipeline.fixture.stores.outbox
            let cluster = try #require(try await outbox.recordedCluster())
            // As if the events had gone to another cluster (a failed-over or rebuilt one) before this one.
            try await outbox.recordCluster("elsewhere", at: Date())
            try await pipeline.whileRunning(pipeline.relay()) {
                try await eventually("the relay to record the cluster it delivers to", timeout: .seconds(30)) {
                    try await outbox.recordedCluster() == cluster
                }
            }
            for topic in ["tipwire.findings", "tipwire.tasks.so-nnmt", "tipwire.tasks.ubnd-cau-giay"] {
                #expect(try await pipeline.messageCount(topic) == 2, "\(topic): its event, and the same again")
            }
        }
    }

    @Test func aReplayByHandProducesTheSelectedTopicsSinceTheGivenTime() async throws {
        try await Pipeline.with { pipeline in
            try await pipeline.whileRunning(pipeline.relay()) {
                _ = try await pipeline.submit()
                try await pipeline.waitUntilSent()
            }
            let outbox = pipeline.fixture.stores.outbox
            let replay = EventReplay(outbox: outbox, topics: .embedded(pipeline.broker, partitions: 3), batchSize: 1)
            let producer = try pipeline.producer()
            var progress: [Int] = []
            let selection = RetainedSelection(since: Date(timeIntervalSinceNow: -3600), topics: ["tipwire.tasks.so-nnmt", "tipwire.findings"])
            #expect(try await outbox.retainedCounts(selection) == (2, 0))
            #expect(try await replay.replay(selection, producer: producer) { progress.append($0) } == 2)
            #expect(progress == [1, 2], "progress after each page")
            #expect(try await pipeline.messageCount("tipwire.tasks.so-nnmt") == 2)
            #expect(try await pipeline.messageCount("tipwire.findings") == 2)
            #expect(try await pipeline.messageCount("tipwire.tasks.ubnd-cau-giay") == 1, "a topic not selected is left alone")
            // Nothing was delivered in the future; an unknown topic selects nothing.
            #expect(try await replay.replay(RetainedSelection(since: Date(timeIntervalSinceNow: 3600)), producer: producer) == 0)
            #expect(try await replay.replay(RetainedSelection(topics: ["tipwire.tasks.nobody"]), producer: producer) == 0)
            await producer.shutdown(timeout: .seconds(5))
        }
    }

    @Test func deliveryRecordsLeaveAfterTheRetentionWindowAndOldOnesAreNotProducedAgain() async throws {
        try await Pipeline.with { pipeline in
            try await pipeline.whileRunning(pipeline.relay()) {
                for _ in 0..<2 { _ = try await pipeline.submit() }
                try await pipeline.waitUntilSent()
            }
            let outbox = pipeline.fixture.stores.outbox
            #expect(try await outbox.retainedCounts(.everything) == (6, 0))
            let client = pipeline.fixture.client
            // One record from before events were retained (no payload), one past the window.
            try await client.execute(
                "UPDATE outbox_deliveries SET payload = NULL WHERE ce_id = (SELECT ce_id FROM outbox_deliveries ORDER BY outbox_id LIMIT 1)")
            try await client.execute(
                """
                UPDATE outbox_deliveries SET sent_at = now() - interval '31 days'
                WHERE ce_id = (SELECT ce_id FROM outbox_deliveries ORDER BY outbox_id DESC LIMIT 1)
                """)
            #expect(try await outbox.retainedCounts(.everything) == (5, 1))
            #expect(try await outbox.forgetDeliveries(sentBefore: Date(timeIntervalSinceNow: -30 * 86_400)) == 1)
            #expect(try await outbox.retainedCounts(.everything) == (4, 1))
            let replay = EventReplay(outbox: outbox, topics: .embedded(pipeline.broker, partitions: 3))
            let producer = try pipeline.producer()
            #expect(try await replay.replay(.everything, producer: producer) == 4, "only what is retained")
            await producer.shutdown(timeout: .seconds(5))
        }
    }
}
