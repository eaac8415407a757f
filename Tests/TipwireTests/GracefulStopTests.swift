import Foundation
import Postgres
import TestSupport
import Testing
import TipwireCore
import TipwireStore

/// SIGTERM stops the pipeline's processes promptly even while Kafka cannot be reached: nothing waits out a
/// delivery or request timeout, and nothing unsent is marked sent.
@Suite("Graceful stop while Kafka is away", .timeLimit(.minutes(5)))
struct GracefulStopTests {
    /// The relay creating its topics, the relay producing (topics left to operators), the response consumer.
    @Test(arguments: [["relay"], ["relay", "--no-create-topics"], ["responses"]])
    func aPipelineProcessStopsWithinSecondsOfSIGTERMWhileKafkaIsUnreachable(command: [String]) async throws {
        let binary = try tipwireBinary()
        try await Pipeline.with { pipeline in
            for _ in 0..<10 { _ = try await pipeline.submit() }
            let schema = try await pipeline.fixture.client.query("SELECT current_schema()")[0].decode(column: 0, as: String.self)
            let url = try TestDatabase.url() + "?options=-csearch_path%3D\(schema)"
            // Nothing listens there: every connection is refused, every request waits for its timeout.
            let unreachable = "127.0.0.1:\(try freePort())"
            let process = try startProcess(
                binary, command + ["--database-url", url, "--kafka-brokers", unreachable, "--log-format", "json", "--log-level", "critical"])
            // Long enough to be waiting on Kafka: creating topics, or delivering the outbox.
            try await Task.sleep(for: .seconds(4))
            #expect(process.isRunning, "\(command) exited on its own")
            let signalled = ContinuousClock.now
            process.terminate()
            while process.isRunning, signalled.duration(to: .now) < .seconds(30) { try await Task.sleep(for: .milliseconds(100)) }
            let took = signalled.duration(to: .now)
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            #expect(took < .seconds(8), "\(command) took \(took) to stop after SIGTERM")
            #expect(process.terminationReason == .exit, "\(command) did not exit by itself")
            #expect(try await pipeline.unsent() == 30, "nothing undelivered is marked sent")
        }
    }
}
