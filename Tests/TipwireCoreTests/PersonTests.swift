import Foundation
import Testing
import TipwireCore

@Suite("People: who notifications reach")
struct PersonTests {
    static let valid: [String: JSONValue] = [
        "party_kind": .string("agency"), "party": .string("ubnd-cau-giay"), "name": .string("Nguyễn Văn An"),
        "email": .string("An.NV@CauGiay.Hanoi.gov.vn"), "role": .string("head"),
    ]

    static func fields(_ changes: [String: JSONValue]) -> [String] {
        do {
            _ = try PersonSubmission.parse(.object(valid.merging(changes) { $1 }))
            return []
        } catch {
            return error.errors.map(\.field)
        }
    }

    @Test func aValidPersonParsesWithTheirAddressInLowerCaseAndVietnameseByDefault() throws {
        let person = try PersonSubmission.parse(.object(Self.valid))
        #expect(person.email == "an.nv@caugiay.hanoi.gov.vn" && person.language == "vi" && person.role == .head && person.webhookURL == nil)
        #expect(
            Self.fields(["role": .string("duty-officer"), "language": .string("en"), "webhook_url": .string("https://chat.example/hook")]).isEmpty)
    }

    @Test(arguments: [
        "not-an-address", "a@b", "a@@b.vn", "@b.vn", "a@", "a b@c.vn", "a@b.vn\r\nBcc: everyone@x.vn", "\"quoted\"@b.vn", "a@[127.0.0.1]",
        "a@b.123", ".a@b.vn", "a.@b.vn", "a..b@c.vn", "a@-b.vn", "a@b-.vn", "a@b..vn", "nguyễn@b.vn", "a@b.vn\u{0}", "a,b@c.vn",
        String(repeating: "a", count: 65) + "@b.vn", "a@" + String(repeating: "b", count: 64) + ".vn",
        String(repeating: "a", count: 64) + "@" + String(repeating: "b.", count: 100) + "vn",
    ])
    func anAddressThatIsNotAPlainAddressIsRefusedByName(email: String) {
        #expect(Self.fields(["email": .string(email)]) == ["email"], "\(email.debugDescription)")
    }

    /// A name goes into message headers: a line break, NUL or other control character could add a header.
    @Test(arguments: ["An\r\nBcc: everyone@x.vn", "An\nX", "An\u{0}", "An\u{1B}[31m", "", "   ", String(repeating: "á", count: 10_000)])
    func aNameThatCouldBreakAHeaderIsRefused(name: String) {
        #expect(Self.fields(["name": .string(name)]) == ["name"], "\(name.prefix(20).debugDescription)")
    }

    @Test(arguments: [
        "ftp://chat.example/hook", "javascript:alert(1)", "file:///etc/passwd", "http://", "https://user:secret@chat.example/hook",
        "chat.example/hook", "https://chat.example/a hook", "https://chat.example/\r\nX: y", String(repeating: "h", count: 2001),
    ])
    func aWebhookOutsideHTTPIsRefused(url: String) {
        #expect(Self.fields(["webhook_url": .string(url)]) == ["webhook_url"], "\(url.prefix(40).debugDescription)")
    }

    @Test func everyOtherFieldIsCheckedToo() {
        #expect(Self.fields(["party_kind": .string("coordinator")]) == ["party_kind"])
        #expect(Self.fields(["party": .string("Not A Code")]) == ["party"])
        #expect(Self.fields(["role": .string("chairman")]) == ["role"])
        #expect(Self.fields(["language": .string("fr")]) == ["language"])
        #expect(Self.fields(["nickname": .string("An")]) == ["nickname"])
    }
}
