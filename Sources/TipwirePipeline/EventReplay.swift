import Kafka
import TipwireStore

/// Produces retained events again, in the order they were first produced, and records where they landed
/// (docs/adr/0008-retained-events.md). The relay does this when a cluster lacks what was delivered to it;
/// `tipwire relay replay` does it by hand. Consumers deduplicate by `ce_id`, so an event that is still
/// there arriving twice is harmless.
public struct EventReplay: Sendable {
    let outbox: OutboxStore
    let topics: TopicProvisioner
    let batchSize: Int

    public init(outbox: OutboxStore, topics: TopicProvisioner, batchSize: Int = 5000) {
        self.outbox = outbox
        self.topics = topics
        self.batchSize = max(1, batchSize)
    }

    /// Produces the selection's retained events and returns how many. `progress` hears the running count
    /// after each page. A failed delivery stops the replay with its error; what was produced before it
    /// stays recorded.
    public func replay(_ selection: RetainedSelection, producer: KafkaProducer, progress: (Int) -> Void = { _ in }) async throws -> Int {
        var after: Int64 = 0
        var produced = 0
        while true {
            let page = try await outbox.retained(selection, after: after, limit: batchSize)
            guard let last = page.last else { return produced }
            try await topics.ensure(page.map(\.event.topic))
            let reports = try await producer.sendStoppingOnCancel(page.map { KafkaOutgoingMessage(event: $0.event) })
            var landed: [OutboxDelivery] = []
            var failure: KafkaError?
            for (retained, report) in zip(page, reports) {
                switch report {
                case .success(let report):
                    landed.append(OutboxDelivery(id: retained.outboxID, event: retained.event, partition: report.partition, offset: report.offset))
                case .failure(let error):
                    failure = failure ?? error
                }
            }
            try await outbox.recordPositions(landed)
            if let failure { throw failure }
            produced += page.count
            after = last.outboxID
            progress(produced)
        }
    }
}
