import Testing
import TipwireCore

@Suite("Kafka topics and ACLs a production cluster holds")
struct KafkaAccessTests {
    let agencies = ["so-nnmt", "vks-tp"].compactMap(PartyCode.init(rawValue:))
    let newsrooms = ["tuoitre"].compactMap(PartyCode.init(rawValue:))

    @Test("every topic tipwire produces to or consumes from, once each")
    func topics() {
        let layout = KafkaLayout(agencies: agencies + agencies, newsrooms: newsrooms, principals: KafkaPrincipals())
        #expect(
            layout.topics == [
                "tipwire.escalations", "tipwire.findings", "tipwire.dlq.responses",
                "tipwire.tasks.so-nnmt", "tipwire.responses.so-nnmt", "tipwire.dlq.responses.so-nnmt",
                "tipwire.tasks.vks-tp", "tipwire.responses.vks-tp", "tipwire.dlq.responses.vks-tp",
                "tipwire.requests.tuoitre",
            ])
        #expect(layout.topics.allSatisfy(TopicName.isValid))
    }

    @Test("an agency reads its tasks and dead letters, writes its responses, in its own group, and nothing else")
    func agencyGrants() throws {
        let layout = KafkaLayout(agencies: agencies, newsrooms: newsrooms, principals: KafkaPrincipals())
        let grants = Set(layout.grants.filter { $0.principal == "User:so-nnmt" }.map(\.description))
        #expect(
            grants == [
                "User:so-nnmt Read topic tipwire.tasks.so-nnmt", "User:so-nnmt Describe topic tipwire.tasks.so-nnmt",
                "User:so-nnmt Read topic tipwire.dlq.responses.so-nnmt", "User:so-nnmt Describe topic tipwire.dlq.responses.so-nnmt",
                "User:so-nnmt Write topic tipwire.responses.so-nnmt", "User:so-nnmt Describe topic tipwire.responses.so-nnmt",
                "User:so-nnmt IdempotentWrite cluster", "User:so-nnmt Read group agency-so-nnmt",
            ])
        // No grant of one party names another party's topic or group.
        for grant in layout.grants
        where grant.principal.hasPrefix("User:") && grant.principal != "User:tipwire" && grant.principal != "User:coordinator" {
            let code = String(grant.principal.dropFirst("User:".count))
            switch grant.resource {
            case .topic(let name), .group(let name): #expect(name.hasSuffix(".\(code)") || name.hasSuffix("-\(code)"), "\(grant)")
            case .topicPrefix, .groupPrefix: Issue.record("a party got a prefixed grant: \(grant)")
            case .cluster: #expect(grant.operation == .idempotentWrite)
            }
        }
    }

    @Test("a newsroom reads its requests in its own group; the coordinator reads findings and escalations")
    func newsroomAndCoordinatorGrants() {
        let layout = KafkaLayout(agencies: agencies, newsrooms: newsrooms, principals: KafkaPrincipals())
        #expect(
            Set(layout.grants.filter { $0.principal == "User:tuoitre" }.map(\.description)) == [
                "User:tuoitre Read topic tipwire.requests.tuoitre", "User:tuoitre Describe topic tipwire.requests.tuoitre",
                "User:tuoitre Read group newsroom-tuoitre",
            ])
        let coordinator = layout.grants.filter { $0.principal == "User:coordinator" }
        #expect(coordinator.allSatisfy { $0.operation == .read || $0.operation == .describe })
        #expect(coordinator.contains(KafkaGrant("User:coordinator", .read, on: .topic(TopicName.escalations))))
    }

    @Test("tipwire may write and create its topics, read responses in tipwire-responses, and nothing of a party's reads")
    func tipwireGrants() {
        let layout = KafkaLayout(agencies: agencies, newsrooms: newsrooms, principals: KafkaPrincipals(tipwire: "User:relay"))
        let own = layout.grants.filter { $0.principal == "User:relay" }
        #expect(own.contains(KafkaGrant("User:relay", .read, on: .group(ConsumerGroupName.responses))))
        #expect(own.contains(KafkaGrant("User:relay", .read, on: .topicPrefix("tipwire.responses."))))
        #expect(!own.contains { $0.operation == .read && $0.resource == .topicPrefix("tipwire.") })
    }

    @Test("principals: a template names the code; malformed ones are refused with the reason")
    func principals() throws {
        let code = try #require(PartyCode(rawValue: "so-nnmt"))
        #expect(KafkaPrincipals(partyTemplate: "User:{code}.agencies.hanoi.gov.vn").party(code) == "User:so-nnmt.agencies.hanoi.gov.vn")
        #expect(KafkaPrincipals().problem == nil)
        #expect(KafkaPrincipals(partyTemplate: "User:agency").problem?.contains("{code}") == true)
        for bad in ["tipwire", "User:", ":tipwire", "User:tip wire"] {
            #expect(KafkaPrincipals(tipwire: bad).problem?.contains("TYPE:NAME") == true, "\(bad)")
        }
    }

    @Test("consumer group names")
    func groups() throws {
        let code = try #require(PartyCode(rawValue: "so-nnmt"))
        #expect(ConsumerGroupName.agency(code) == "agency-so-nnmt")
        #expect(ConsumerGroupName.newsroom(code) == "newsroom-so-nnmt")
        #expect(ConsumerGroupName.responses == "tipwire-responses")
    }
}
