import ArgumentParser
import Foundation
import Kafka
import Logging
import TipwireCommandLine
import TipwireCore
import TipwireStore

struct Provision: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create every party's Kafka topics and grant each agency and newsroom its ACLs (a production cluster).",
        discussion: """
            Reads the agencies and newsrooms from the database and makes sure the cluster has \
            tipwire.findings, tipwire.escalations, tipwire.dlq.responses, each agency's tipwire.tasks.<code>, \
            tipwire.responses.<code> and tipwire.dlq.responses.<code>, and each newsroom's \
            tipwire.requests.<code>. Then it allows each agency's principal to read its tasks and dead \
            letters and write its responses (group agency-<code>), each newsroom's to read its requests \
            (group newsroom-<code>), the coordinator's to read findings and escalations (groups \
            coordinator-*), and tipwire's own to do what the relay and the response consumer need. \
            Existing topics and ACLs are left as they are, so it is safe to run again: run it after adding \
            an agency or a newsroom. It connects with --kafka-config's credentials, which must be allowed \
            to create topics and ACLs (a super user). docs/agency-integration.md lists every ACL.

            Examples:
              tipwire provision --dry-run        print the topics and ACLs, change nothing
              tipwire provision --topic-replication 3 --min-insync-replicas 2 \\
                --kafka-config /etc/tipwire/kafka-admin.properties
              tipwire provision --party-principal 'User:{code}.agencies.hanoi.gov.vn'
                                                 principals named after TLS certificates
            """)

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var kafka: KafkaOptions
    @OptionGroup var logging: LoggingOptions

    @OptionGroup var topics: TopicSizeOptions

    @Option(help: "min.insync.replicas of each topic it creates (default: the broker's).")
    var minInsyncReplicas: Int?

    @Option(help: "tipwire's own principal (the relay's and the response consumer's SASL user).")
    var tipwirePrincipal = "User:tipwire"

    @Option(help: "The coordinators' principal (reads findings and escalations).")
    var coordinatorPrincipal = "User:coordinator"

    @Option(help: "Each agency's and newsroom's principal; {code} stands for its code.")
    var partyPrincipal = "User:{code}"

    @Flag(name: .customLong("no-acls"), help: "Create the topics only (a cluster without an authorizer).")
    var noACLs = false

    @Flag(help: "Print the topics and ACLs it would make, one per line, and touch no Kafka.")
    var dryRun = false

    var principals: KafkaPrincipals {
        KafkaPrincipals(tipwire: tipwirePrincipal, coordinator: coordinatorPrincipal, partyTemplate: partyPrincipal)
    }

    func validate() throws {
        if let minInsyncReplicas { try checkRange(minInsyncReplicas, 1...topics.replication, "--min-insync-replicas") }
        if let problem = principals.problem { throw ValidationError(problem) }
    }

    func run() async throws {
        try logging.bootstrap()
        let endpoint = dryRun ? nil : try kafka.endpoint()
        let database = try database.database(poolSize: 1)
        defer { database.close() }
        let layout = KafkaLayout(agencies: try await database.agencyCodes(), newsrooms: try await database.newsroomCodes(), principals: principals)
        let grants = noACLs ? [] : layout.grants
        guard let endpoint else {
            for topic in layout.topics { print("topic \(topic)") }
            for grant in grants { print("acl \(grant)") }
            return
        }
        let admin = try KafkaAdmin(bootstrapServers: endpoint.brokers, settings: endpoint.settings, logger: Logger(label: "tipwire.provision"))
        let config = minInsyncReplicas.map { ["min.insync.replicas": String($0)] } ?? [:]
        for (index, topic) in layout.topics.enumerated() {
            try await admin.createTopic(
                topic, partitions: topics.partitions, replicationFactor: topics.replication, config: config, ifNotExists: true)
            if (index + 1) % 50 == 0 { FileHandle.standardError.write(Data("\(index + 1) of \(layout.topics.count) topics\n".utf8)) }
        }
        try await admin.createACLs(grants.map(Self.binding))
        print("\(layout.topics.count) topics and \(grants.count) ACLs in place on \(endpoint.brokers)")
    }

    static func binding(_ grant: KafkaGrant) -> KafkaACLBinding {
        let operation: KafkaACLBinding.Operation =
            switch grant.operation {
            case .read: .read
            case .write: .write
            case .create: .create
            case .describe: .describe
            case .idempotentWrite: .idempotentWrite
            }
        return switch grant.resource {
        case .topic(let name): KafkaACLBinding(principal: grant.principal, operation: operation, resourceType: .topic, resourceName: name)
        case .topicPrefix(let prefix):
            KafkaACLBinding(principal: grant.principal, operation: operation, resourceType: .topic, resourceName: prefix, prefixed: true)
        case .group(let name): KafkaACLBinding(principal: grant.principal, operation: operation, resourceType: .group, resourceName: name)
        case .groupPrefix(let prefix):
            KafkaACLBinding(principal: grant.principal, operation: operation, resourceType: .group, resourceName: prefix, prefixed: true)
        case .cluster:
            KafkaACLBinding(principal: grant.principal, operation: operation, resourceType: .cluster, resourceName: KafkaACLBinding.clusterName)
        }
    }
}
