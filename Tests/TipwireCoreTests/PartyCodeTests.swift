import Testing
import TipwireCore

@Suite("Party codes and topic names")
struct PartyCodeTests {
    @Test("valid codes", arguments: ["so-nnmt", "ubnd-cau-giay", "vks-tp", "tuoitre", "a", "x1-2"])
    func valid(_ text: String) {
        #expect(PartyCode(rawValue: text)?.rawValue == text)
    }

    @Test(
        "invalid codes say why",
        arguments: [
            ("", "empty"), ("SO-NNMT", "lowercase"), ("cầu-giấy", "lowercase"), ("so_nnmt", "lowercase"), ("-tp", "start or end"),
            ("tp-", "start or end"), ("tasks.so-nnmt", "lowercase"), (String(repeating: "a", count: 64), "at most"),
        ])
    func invalid(_ text: String, _ reason: String) {
        #expect(PartyCode(rawValue: text) == nil)
        #expect(PartyCode.validate(text)?.contains(reason) == true)
    }

    @Test("topic names follow the README's table of Kafka topics")
    func topics() throws {
        let agency = try #require(PartyCode(rawValue: "so-nnmt"))
        let newsroom = try #require(PartyCode(rawValue: "tuoitre"))
        #expect(TopicName.tasks(agency) == "tipwire.tasks.so-nnmt")
        #expect(TopicName.responses(agency) == "tipwire.responses.so-nnmt")
        #expect(TopicName.requests(newsroom) == "tipwire.requests.tuoitre")
        #expect(agency.environmentName == "SO_NNMT")
    }

    @Test("Kafka's topic names: ASCII letters, digits, '.', '_' and '-', 1 to 249 of them")
    func topicNameValidity() {
        for name in ["tipwire.findings", "tipwire.tasks.so-nnmt", "a", "A_b-9.x", String(repeating: "t", count: 249)] {
            #expect(TopicName.isValid(name), "\(name)")
        }
        for name in ["", "tipwire/tasks", "no spaces", "đất", "tipwire.tasks.*", String(repeating: "t", count: 250), "a\u{0}b"] {
            #expect(!TopicName.isValid(name), "\(name)")
        }
    }
}
