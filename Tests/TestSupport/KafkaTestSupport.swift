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

/// Runs a program off the cooperative pool and returns its exit status and standard output.
public func runProgram(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String, errors: String) {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            let output = Pipe()
            let errorsPath = NSTemporaryDirectory() + "stderr-\(UUID().uuidString)"
            _ = FileManager.default.createFile(atPath: errorsPath, contents: nil)
            defer { try? FileManager.default.removeItem(atPath: errorsPath) }
            process.standardOutput = output
            process.standardError = FileHandle(forWritingAtPath: errorsPath)
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
                return
            }
            let outputData = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let errorData = FileManager.default.contents(atPath: errorsPath) ?? Data()
            continuation.resume(
                returning: (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self)))
        }
    }
}
