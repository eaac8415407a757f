import Foundation

/// Consumer group names, in one place: the contract tells each party which group to read with, and the
/// provisioning grants that group and no other.
public enum ConsumerGroupName {
    /// tipwire's response consumers share it, so several instances split the response topics' partitions.
    public static let responses = "tipwire-responses"
    public static func agency(_ agency: PartyCode) -> String { "agency-\(agency)" }
    public static func newsroom(_ newsroom: PartyCode) -> String { "newsroom-\(newsroom)" }
    /// Coordinators' groups start with it (one per dashboard, alerting or archiving client).
    public static let coordinatorPrefix = "coordinator-"
}

/// One Kafka ACL: `principal` may do `operation` on `resource`.
public struct KafkaGrant: Hashable, Sendable, CustomStringConvertible {
    public enum Resource: Hashable, Sendable {
        case topic(String)
        /// Every topic whose name starts with the text.
        case topicPrefix(String)
        case group(String)
        /// Every consumer group whose name starts with the text.
        case groupPrefix(String)
        case cluster
    }

    /// Kafka's own names for the operations, as `kafka-acls.sh --operation` takes them.
    public enum Operation: String, Hashable, Sendable, CaseIterable {
        case read = "Read"
        case write = "Write"
        case create = "Create"
        case describe = "Describe"
        case idempotentWrite = "IdempotentWrite"
    }

    public let principal: String
    public let resource: Resource
    public let operation: Operation

    public init(_ principal: String, _ operation: Operation, on resource: Resource) {
        self.principal = principal
        self.resource = resource
        self.operation = operation
    }

    /// `User:so-nnmt Read topic tipwire.tasks.so-nnmt`, `User:tipwire Write topic-prefix tipwire.tasks.`.
    public var description: String {
        switch resource {
        case .topic(let name): "\(principal) \(operation.rawValue) topic \(name)"
        case .topicPrefix(let prefix): "\(principal) \(operation.rawValue) topic-prefix \(prefix)"
        case .group(let name): "\(principal) \(operation.rawValue) group \(name)"
        case .groupPrefix(let prefix): "\(principal) \(operation.rawValue) group-prefix \(prefix)"
        case .cluster: "\(principal) \(operation.rawValue) cluster"
        }
    }
}

/// Who tipwire's parties are to Kafka: SASL/SCRAM user names or TLS certificate subjects, as
/// `User:<name>` principals.
public struct KafkaPrincipals: Sendable, Equatable {
    /// tipwire's own clients: the relay, the response consumer and the dead-letter producer.
    public var tipwire: String
    /// The coordinators' clients (the City Inspectorate's), which read escalations and findings.
    public var coordinator: String
    /// A party's principal: `{code}` in it stands for the agency's or newsroom's code.
    public var partyTemplate: String

    public static let placeholder = "{code}"

    public init(tipwire: String = "User:tipwire", coordinator: String = "User:coordinator", partyTemplate: String = "User:{code}") {
        self.tipwire = tipwire
        self.coordinator = coordinator
        self.partyTemplate = partyTemplate
    }

    public func party(_ code: PartyCode) -> String {
        partyTemplate.replacingOccurrences(of: Self.placeholder, with: code.rawValue)
    }

    /// Why a principal cannot be used, or nil: Kafka principals are `Type:name`, and a party template must name the code.
    public var problem: String? {
        for (name, value) in [("tipwire", tipwire), ("coordinator", coordinator), ("party", partyTemplate)] {
            let parts = value.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count != 2 || parts[0].isEmpty || parts[1].isEmpty || value.contains(where: \.isWhitespace) {
                return "the \(name) principal '\(value)' must be TYPE:NAME without spaces, e.g. User:tipwire"
            }
        }
        if !partyTemplate.contains(Self.placeholder) {
            return "the party principal '\(partyTemplate)' must contain \(Self.placeholder), the agency's or newsroom's code"
        }
        return nil
    }
}

/// Everything a production cluster holds for tipwire: every party's topics, and the ACLs that let each
/// party read and write its own topics and nothing else (docs/agency-integration.md).
public struct KafkaLayout: Sendable, Equatable {
    public let topics: [String]
    public let grants: [KafkaGrant]

    public init(agencies: [PartyCode], newsrooms: [PartyCode], principals: KafkaPrincipals) {
        let agencies = Set(agencies).sorted { $0.rawValue < $1.rawValue }
        let newsrooms = Set(newsrooms).sorted { $0.rawValue < $1.rawValue }
        topics =
            [TopicName.escalations, TopicName.findings, TopicName.unattributedDeadLetters]
            + agencies.flatMap { [TopicName.tasks($0), TopicName.responses($0), TopicName.responseDeadLetters($0)] }
            + newsrooms.map(TopicName.requests)

        let tipwire = principals.tipwire
        var grants: [KafkaGrant] = [
            // The relay produces every event and creates topics on demand; its idempotent producer needs IdempotentWrite.
            KafkaGrant(tipwire, .write, on: .topicPrefix("tipwire.")),
            KafkaGrant(tipwire, .create, on: .topicPrefix("tipwire.")),
            KafkaGrant(tipwire, .describe, on: .topicPrefix("tipwire.")),
            KafkaGrant(tipwire, .idempotentWrite, on: .cluster),
            // The response consumer reads every agency's responses in its own group.
            KafkaGrant(tipwire, .read, on: .topicPrefix("tipwire.responses.")),
            KafkaGrant(tipwire, .read, on: .group(ConsumerGroupName.responses)),
            // Coordinators follow escalations and the findings stream.
            KafkaGrant(principals.coordinator, .read, on: .topic(TopicName.escalations)),
            KafkaGrant(principals.coordinator, .describe, on: .topic(TopicName.escalations)),
            KafkaGrant(principals.coordinator, .read, on: .topic(TopicName.findings)),
            KafkaGrant(principals.coordinator, .describe, on: .topic(TopicName.findings)),
            KafkaGrant(principals.coordinator, .read, on: .groupPrefix(ConsumerGroupName.coordinatorPrefix)),
        ]
        for agency in agencies {
            let principal = principals.party(agency)
            for topic in [TopicName.tasks(agency), TopicName.responseDeadLetters(agency)] {
                grants += [KafkaGrant(principal, .read, on: .topic(topic)), KafkaGrant(principal, .describe, on: .topic(topic))]
            }
            grants += [
                KafkaGrant(principal, .write, on: .topic(TopicName.responses(agency))),
                KafkaGrant(principal, .describe, on: .topic(TopicName.responses(agency))),
                KafkaGrant(principal, .idempotentWrite, on: .cluster),
                KafkaGrant(principal, .read, on: .group(ConsumerGroupName.agency(agency))),
            ]
        }
        for newsroom in newsrooms {
            let principal = principals.party(newsroom)
            grants += [
                KafkaGrant(principal, .read, on: .topic(TopicName.requests(newsroom))),
                KafkaGrant(principal, .describe, on: .topic(TopicName.requests(newsroom))),
                KafkaGrant(principal, .read, on: .group(ConsumerGroupName.newsroom(newsroom))),
            ]
        }
        self.grants = grants
    }
}
