import ArgumentParser
import Foundation
import Kafka
import Logging
import TipwireCommandLine

struct BenchKafka: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Produce messages with delivery reports to the embedded broker: our producer vs kcat -P on the same data.",
        discussion: """
            Starts an embedded broker in this process, writes --messages lines of --size bytes to a file, times
            `kcat -P -l FILE` (idempotent, same linger) and then our producer sending the same payloads and
            awaiting every delivery report. Each side first sends the same messages once to a warm-up topic,
            so both are measured in steady state. Prints messages/s and ours ÷ kcat (target ≥ 0.8×).
            The broker keeps everything in memory: 1,000,000 × 1 KB needs about 5 GB.
            """)

    @Option(help: "Messages per run.")
    var messages: Int = 1_000_000

    @Option(help: "Bytes per message.")
    var size: Int = 1024

    @Option(help: "Partitions of the benchmark topics.")
    var partitions: Int = 4

    @Option(help: "Rounds, each on a fresh embedded broker; figures are the mean.")
    var rounds: Int = 3

    func run() async throws {
        var logger = Logger(label: "bench.kafka")
        logger.logLevel = .error
        let payload = Array(repeating: UInt8(ascii: "x"), count: size - 1)
        let file = NSTemporaryDirectory() + "tipwire-bench-\(UUID().uuidString).txt"
        _ = FileManager.default.createFile(atPath: file, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        let line = payload + [UInt8(ascii: "\n")]
        let chunk = Data(Array(repeating: line, count: 10_000).joined())
        for _ in 0..<(messages / 10_000) { handle.write(chunk) }
        handle.write(Data(Array(repeating: line, count: messages % 10_000).joined()))
        try handle.close()

        print("bench kafka: \(messages) × \(size) B to the embedded broker (\(partitions) partitions), awaiting delivery reports")
        print("\(rounds) rounds, each on a fresh broker, order alternating; each side first sends the same messages")
        print("once to a warm-up topic, so the figures are steady-state throughput")
        var kcatSeconds: [Double] = []
        var oursSeconds: [Double] = []
        var failed = 0
        for round in 0..<rounds {
            let broker = try EmbeddedBroker(brokers: 1, logger: logger)
            defer { broker.shutdown() }
            for topic in ["bench.kcat", "bench.ours", "bench.kcat.warm-up", "bench.ours.warm-up"] {
                try broker.createTopic(topic, partitions: partitions)
            }
            func runKcat(topic: String) async throws -> Double {
                let start = ContinuousClock.now
                let kcat = try await runTool(
                    "kcat",
                    [
                        "-P", "-b", broker.bootstrapServers, "-t", topic, "-l", file,
                        "-X", "enable.idempotence=true", "-X", "linger.ms=5", "-X", "queue.buffering.max.messages=1000000",
                    ])
                guard kcat.status == 0 else { throw ValidationError("kcat failed (is it installed? deploy/local/up installs it):\n\(kcat.output)") }
                return start.duration(to: .now) / .seconds(1)
            }
            func runOurs() async throws -> Double {
                let producer = try KafkaProducer(configuration: .init(bootstrapServers: broker.bootstrapServers, clientID: "bench"), logger: logger)
                _ = try await producer.send((0..<messages).map { _ in KafkaOutgoingMessage(topic: "bench.ours.warm-up", key: nil, value: payload) })
                let batch = (0..<messages).map { _ in KafkaOutgoingMessage(topic: "bench.ours", key: nil, value: payload) }
                let start = ContinuousClock.now
                let results = try await producer.send(batch)
                let elapsed = start.duration(to: .now) / .seconds(1)
                failed += results.filter { if case .failure = $0 { true } else { false } }.count
                await producer.shutdown()
                return elapsed
            }
            if round % 2 == 0 {
                _ = try await runKcat(topic: "bench.kcat.warm-up")
                kcatSeconds.append(try await runKcat(topic: "bench.kcat"))
                oursSeconds.append(try await runOurs())
            } else {
                oursSeconds.append(try await runOurs())
                _ = try await runKcat(topic: "bench.kcat.warm-up")
                kcatSeconds.append(try await runKcat(topic: "bench.kcat"))
            }
            print(String(format: "  round %d: kcat %.2f s, ours %.2f s", round + 1, kcatSeconds.last!, oursSeconds.last!))
        }
        let kcatRate = Double(messages * rounds) / kcatSeconds.reduce(0, +)
        let oursRate = Double(messages * rounds) / oursSeconds.reduce(0, +)
        print("            messages/s")
        print("kcat -P   " + formatRate(kcatRate))
        print("ours      " + formatRate(oursRate) + (failed > 0 ? "   (\(failed) failed)" : ""))
        print("ours÷kcat  " + formatRatio(oursRate / kcatRate, target: 0.8))
    }

}
