import ArgumentParser
import Foundation
import Kafka
import Logging
import ServiceLifecycle
import TipwireCommandLine
import TipwireCore
import UnixSignals

struct Broker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the embedded Kafka broker (librdkafka's mock cluster) on its own.",
        discussion: """
            The cluster speaks the real Kafka protocol on loopback ports, keeps everything in memory and
            stops with this process (Ctrl-C or SIGTERM). For development and tests only; production uses
            Apache Kafka. Any Kafka client can connect, for example:
              kcat -b $(bootstrap) -L
              kcat -b $(bootstrap) -P -t demo <<< 'hello'
            """)

    @Option(help: "Number of brokers in the cluster.")
    var brokers: Int = 1

    @Option(help: "Topics to create up front, as NAME or NAME:PARTITIONS (repeatable).")
    var topic: [String] = []

    @Option(help: "Write TIPWIRE_KAFKA_BROKERS=… to this file once the cluster is up.")
    var runtimeFile: String?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        try checkRange(brokers, 1...16, "--brokers")
        for spec in topic {
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false)
            guard !spec.isEmpty, parts.count <= 2, TopicName.isValid(String(parts[0])),
                parts.count == 1 || Int(parts[1]).map({ (1...10_000).contains($0) }) == true
            else {
                throw ValidationError(
                    "--topic \(spec): must be NAME or NAME:PARTITIONS, a topic name of letters, digits, '.', '_' and '-' and 1 to 10000 partitions")
            }
        }
    }

    func run() async throws {
        try logging.bootstrap()
        let logger = Logger(label: "tipwire.broker")
        let broker = try EmbeddedBroker(brokers: brokers, logger: logger)
        for spec in topic {
            let parts = spec.split(separator: ":")
            try broker.createTopic(String(parts[0]), partitions: parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
        }
        if let runtimeFile {
            try "TIPWIRE_KAFKA_BROKERS=\(broker.bootstrapServers)\n".write(toFile: runtimeFile, atomically: true, encoding: .utf8)
        }
        let banner = """
            embedded Kafka cluster with \(brokers) broker(s)
            bootstrap servers: \(broker.bootstrapServers)
            stop with Ctrl-C

            """
        FileHandle.standardOutput.write(Data(banner.utf8))
        let group = ServiceGroup(
            services: [EmbeddedBrokerService(broker: broker, logger: logger)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
