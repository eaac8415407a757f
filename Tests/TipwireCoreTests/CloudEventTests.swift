import Foundation
import Testing
import TipwireCore

@Suite("CloudEvents binary mode")
struct CloudEventTests {
    @Test func attributesReadBackFromTheirOwnHeadersInTheirFixedOrder() throws {
        let time = try #require(parseTimestamp("2026-02-13T09:30:00.123Z"))
        let attributes = CloudEventAttributes(
            id: "0192-abc", source: "/agencies/so-nnmt", type: "vn.tipwire.response.acknowledge.v1", time: time, subject: "tasks/x")
        let headers = attributes.headers
        #expect(headers.map(\.key) == ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_subject", "content-type"])
        #expect(headers.first?.value == "1.0")
        let lookup = Dictionary(headers.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        #expect(CloudEventAttributes { lookup[$0] } == attributes)
    }

    @Test func optionalAttributesAreLeftOutAndReadAsAbsent() {
        let attributes = CloudEventAttributes(id: "1", source: "/tipwire", type: "t")
        #expect(attributes.headers.map(\.key) == ["ce_specversion", "ce_id", "ce_source", "ce_type", "content-type"])
        let lookup = Dictionary(attributes.headers.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        #expect(CloudEventAttributes { lookup[$0] } == attributes)
    }

    @Test(arguments: ["ce_id", "ce_source", "ce_type"])
    func aMissingRequiredAttributeReadsAsNoEvent(missing: String) {
        let headers = ["ce_id": "1", "ce_source": "/agencies/so-nnmt", "ce_type": "t"].filter { $0.key != missing }
        #expect(CloudEventAttributes { headers[$0] } == nil)
    }

    @Test func aTimeOutsideTheSupportedYearsReadsAsAbsent() {
        let headers = ["ce_id": "1", "ce_source": "/s", "ce_type": "t", "ce_time": "99999-01-01T00:00:00Z"]
        #expect(CloudEventAttributes { headers[$0] }?.time == nil)
    }
}
