import ChildProcesses
import Foundation
import Kafka
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

    /// Production runs the API apart from the pipeline: such an instance needs no Kafka, its /healthz checks
    /// only the database, and it accepts findings while no broker exists at all.
    @Test func anAPIWithoutThePipelineNeedsNoKafkaAndStaysHealthy() async throws {
        let binary = try tipwireBinary()
        try await Pipeline.with { pipeline in
            let schema = try await pipeline.fixture.client.query("SELECT current_schema()")[0].decode(column: 0, as: String.self)
            let port = try freePort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [
                "serve", "--no-relay", "--no-responses", "--no-deadlines", "--port", "\(port)",
                "--database-url", try TestDatabase.url() + "?options=-csearch_path%3D\(schema)", "--log-level", "error",
            ]
            process.environment = childEnvironment()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.standardError
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            var status = ""
            let started = ContinuousClock.now
            while status != "200", process.isRunning, started.duration(to: .now) < .seconds(30) {
                try await Task.sleep(for: .milliseconds(200))
                status = try await runProgram("curl", ["-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/healthz"])
                    .output
            }
            #expect(status == "200", "an API alone answered /healthz with \(status) (running: \(process.isRunning))")
            let health = try await runProgram(
                "curl",
                [
                    "-s", "-m", "5", "-H", "Authorization: Bearer \(pipeline.fixture.token("coordinator", "thanh-tra-tp"))",
                    "http://127.0.0.1:\(port)/healthz",
                ]
            ).output
            #expect(health.contains("database") && !health.contains("kafka"), "\(health)")
            process.terminate()
            let signalled = ContinuousClock.now
            while process.isRunning, signalled.duration(to: .now) < .seconds(15) { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!process.isRunning, "an API alone did not stop within 15 s of SIGTERM")
        }
    }

    /// `tipwire relay` and `tipwire deadlines` run alone serve /healthz and /metrics on --metrics-port: the
    /// lock they hold, the pipeline's backlog, and their own counters; SIGTERM stops the listener too.
    @Test(arguments: ["relay", "deadlines"])
    func aPipelineProcessAloneServesHealthAndMetrics(part: String) async throws {
        let binary = try tipwireBinary()
        try await Pipeline.with { pipeline in
            let schema = try await pipeline.fixture.client.query("SELECT current_schema()")[0].decode(column: 0, as: String.self)
            let port = try freePort()
            let kafka = part == "relay" ? ["--kafka-brokers", pipeline.broker.bootstrapServers, "--no-create-topics"] : []
            let process = try startProcess(
                binary,
                [
                    part, "--metrics-port", "\(port)", "--database-url", try TestDatabase.url() + "?options=-csearch_path%3D\(schema)", "--log-level",
                    "error",
                ]
                    + kafka)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            let worker = #"tipwire_worker_active{worker="\#(part)"} 1"#
            var metrics = ""
            let started = ContinuousClock.now
            while !metrics.contains(worker), process.isRunning, started.duration(to: .now) < .seconds(30) {
                try await Task.sleep(for: .milliseconds(200))
                metrics = try await runProgram("curl", ["-s", "-m", "5", "http://127.0.0.1:\(port)/metrics"]).output
            }
            #expect(metrics.contains(worker), "\(part) --metrics-port: \(metrics.prefix(2000))")
            for family in ["tipwire_outbox_unsent_events", "tipwire_deadline_engine_lag_seconds", "tipwire_duties_overdue"] {
                #expect(metrics.contains("# TYPE \(family) gauge"), "\(part) exports \(family)")
            }
            let own = part == "relay" ? "tipwire_relay_events_delivered_total" : "tipwire_deadline_rungs_raised_total"
            #expect(metrics.contains(own), "\(part) exports \(own)")
            let health = try await runProgram(
                "curl",
                [
                    "-s", "-m", "5", "-w", " %{http_code}", "-H", "Authorization: Bearer \(pipeline.fixture.token("coordinator", "thanh-tra-tp"))",
                    "http://127.0.0.1:\(port)/healthz",
                ]
            ).output
            #expect(health.hasSuffix(" 200") && health.contains("database"), "\(health)")
            #expect(health.contains("kafka") == (part == "relay"), "\(part) checks Kafka only if it uses it: \(health)")
            let unknown = try await runProgram("curl", ["-s", "-m", "5", "-w", " %{http_code}", "http://127.0.0.1:\(port)/v1/findings"]).output
            #expect(unknown.hasSuffix(" 404"), "the metrics listener serves nothing else: \(unknown)")
            process.terminate()
            let signalled = ContinuousClock.now
            while process.isRunning, signalled.duration(to: .now) < .seconds(15) { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!process.isRunning, "\(part) did not stop within 15 s of SIGTERM")
        }
    }
}
