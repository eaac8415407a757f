import Foundation
import Kafka
import Logging

public struct Timeout: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// Reads until `count` messages arrived (storing each offset) or `timeout` passed.
public func consume(_ consumer: KafkaConsumer, count: Int, timeout: Duration = .seconds(60)) async throws -> [KafkaMessage] {
    try await withThrowingTaskGroup(of: [KafkaMessage].self) { group in
        group.addTask {
            var received: [KafkaMessage] = []
            for try await message in consumer.messages {
                received.append(message)
                try consumer.storeOffset(message)
                if received.count >= count { break }
            }
            return received
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw Timeout(description: "fewer than \(count) messages within \(timeout)")
        }
        let result = try await group.next()!
        group.cancelAll()
        return result
    }
}

/// Waits until `condition` holds, polling every 50 ms.
public func eventually(_ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw Timeout(description: "timed out waiting for \(what)")
}

public func consumerConfiguration(_ broker: EmbeddedBroker, group: String) -> KafkaConsumerConfiguration {
    KafkaConsumerConfiguration(
        bootstrapServers: broker.bootstrapServers, groupID: group, commitInterval: .milliseconds(200), sessionTimeout: .seconds(6),
        settings: ["topic.metadata.refresh.interval.ms": "1000"])
}

public let quietLogger: Logger = {
    var logger = Logger(label: "kafka.test")
    logger.logLevel = .error
    return logger
}()
