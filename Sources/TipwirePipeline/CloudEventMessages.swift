import Kafka
import TipwireCore
import TipwireStore

extension KafkaOutgoingMessage {
    /// A CloudEvents binary-mode message: `attributes` in headers, `data` as the value.
    public init(topic: String, key: [UInt8]?, data: [UInt8], attributes: CloudEventAttributes) {
        self.init(topic: topic, key: key, value: data, headers: attributes.headers.map { KafkaHeader(key: $0.key, value: $0.value) })
    }

    /// An outbox event as the relay produces it.
    public init(event: OutboundEvent) {
        self.init(
            topic: event.topic, key: Array(event.key.utf8), data: event.data,
            attributes: CloudEventAttributes(
                id: event.id.lowercased, source: OutboundEvent.source, type: event.type, time: event.time, subject: event.subject))
    }
}

extension KafkaMessage {
    /// The message's CloudEvents attributes; nil when `ce_id`, `ce_source` or `ce_type` is missing or not UTF-8.
    public var cloudEvent: CloudEventAttributes? {
        CloudEventAttributes { header($0)?.stringValue }
    }
}
