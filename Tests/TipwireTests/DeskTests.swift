import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import Testing
import TipwireCore
import TipwirePages

/// The newsroom desk: a liaison officer submits a finding with its documents from a page, and follows it.
@Suite("Newsroom desk")
struct DeskTests {
    /// A `multipart/form-data` body: text fields, then files as (field, file name, type, bytes).
    static func multipart(_ fields: [(String, String)], files: [(String, String, String, [UInt8])]) -> (body: [UInt8], type: String) {
        let boundary = "----tipwire\(UUID().uuidString.prefix(8))"
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        for (name, filename, type, bytes) in files {
            body += Array(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: \(type)\r\n\r\n".utf8)
            body += bytes + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return (body, "multipart/form-data; boundary=\(boundary)")
    }

    static let fields: [(String, String)] = [
        ("title", "Đất công bị chiếm dụng ở Cầu Giấy"), ("article_url", "https://tuoitre.vn/dat-cong-cau-giay-2026.htm"),
        ("published_at", "2026-11-20T08:30"), ("summary", "Khu đất công 2.000 m² bị sử dụng sai mục đích."), ("category", "land"),
        ("jurisdiction", "cau-giay"), ("subject_agency", ""),
    ]

    /// The form's action (with its token) and its idempotency key, from the submission page.
    static func form(_ browser: inout Browser, _ client: some TestClientProtocol) async throws -> (action: String, key: String) {
        let page = try await browser.get(client, "/desk/findings/new").text
        let action = try #require(page.range(of: "action=\"/desk/findings?csrf=")).lowerBound
        let actionValue = String(page[page.index(action, offsetBy: 8)...].prefix { $0 != "\"" })
        let key = try #require(InboxTests.hidden("key", inFormFor: actionValue, page))
        return (actionValue, key)
    }

    static func post(_ browser: inout Browser, _ client: some TestClientProtocol, _ path: String, _ form: (body: [UInt8], type: String)) async throws
        -> Reply
    {
        try await browser.send(client, Call(method: .post, path: path, token: nil, body: form.body, contentType: form.type))
    }

    @Test func aLiaisonSubmitsAFindingWithDocumentsOnceEvenWhenTheFormIsSentTwice() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                var liaison = Browser()
                let form = try await liaison.get(client, "/dashboard/sign-in")
                let signedIn = try await liaison.post(
                    client, "/dashboard/sign-in",
                    form: ["csrf": Browser.csrf(form.text) ?? "", "token": fixture.token("liaison", "tuoitre"), "next": ""])
                #expect(signedIn.headers[.location] == "/desk", "a liaison starts at the desk")
                let (action, key) = try await Self.form(&liaison, client)
                let body = Self.multipart(
                    Self.fields + [("key", key)],
                    files: [
                        ("documents", "bien-ban.pdf", "application/pdf", Array("%PDF-1.4 biên bản".utf8)),
                        ("documents", "anh.txt", "text/plain", Array("ảnh hiện trường".utf8)),
                    ])
                let first = try await Self.post(&liaison, client, action, body)
                #expect(first.status == .seeOther, "\(first.text.prefix(500))")
                let location = try #require(first.headers[.location])
                #expect(location.hasPrefix("/desk/findings/"))
                // Back and send again: the same finding, nothing written twice.
                let again = try await Self.post(&liaison, client, action, body)
                #expect(again.headers[.location] == location)
                #expect(try await fixture.count("findings") == 1)
                #expect(try await fixture.count("documents") == 2)
                let page = try await liaison.get(client, location)
                #expect(page.status == .ok)
                #expect(page.text.contains("ubnd-cau-giay"))
                #expect(page.text.contains("application/pdf"))
                let link = "href=\"\(location.split(separator: "?")[0])\""
                #expect(try await liaison.get(client, "/desk").text.contains(link))
                #expect(try await liaison.get(client, "/desk?state=open").text.contains(link))
                #expect(!(try await liaison.get(client, "/desk?state=accounted").text.contains(link)), "its tasks are open")
                #expect(try await liaison.get(client, "/desk?state=bogus").status == .badRequest)
                // Another newsroom's liaison does not see it.
                var other = Browser()
                #expect(try await other.signIn(client, token: fixture.token("liaison", "vnexpress")))
                #expect(try await other.get(client, String(location.split(separator: "?")[0])).status == .notFound)
            }
        }
    }

    @Test func aBadFormComesBackWithItsErrorsAndWritesNothing() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                var liaison = Browser()
                _ = try await liaison.signIn(client, token: fixture.token("liaison", "tuoitre"))
                let (action, key) = try await Self.form(&liaison, client)
                var fields = Self.fields.filter { $0.0 != "title" }
                fields.append(("title", ""))
                let bad = try await Self.post(
                    &liaison, client, action,
                    Self.multipart(fields + [("key", key)], files: [("documents", "bien-ban.pdf", "application/pdf", Array("%PDF-1.4 x".utf8))]))
                #expect(bad.status == .unprocessableContent)
                #expect(bad.text.contains("id=\"submit-title-error\""))
                #expect(bad.text.contains("<option value=\"land\" selected>"), "the chosen category stays chosen")
                let blank = try await liaison.get(client, "/desk/findings/new").text
                #expect(blank.contains("<option value=\"\">— Chọn —</option>"), "a category is chosen, not defaulted to the first")
                #expect(bad.text.contains("Khu đất công 2.000 m² bị sử dụng sai mục đích.</textarea>"), "what was typed comes back")
                // Over the document cap: a page that names the limit.
                let big = Self.multipart(
                    Self.fields + [("key", key)],
                    files: [("documents", "lon.pdf", "application/pdf", [UInt8](repeating: 0x25, count: 26 * 1_048_576))])
                let refused = try await Self.post(&liaison, client, action, big)
                #expect(refused.status == .contentTooLarge)
                #expect(refused.text.contains("25 MiB"))
                // Without its form token: refused, nothing written.
                let forged = try await Self.post(&liaison, client, "/desk/findings", Self.multipart(Self.fields + [("key", key)], files: []))
                #expect(forged.status == .forbidden)
                let hostile = try await liaison.send(
                    client,
                    Call(method: .post, path: action, token: nil, body: Array("--x\r\n\r\n".utf8), contentType: "multipart/form-data; boundary="))
                #expect(hostile.status.code < 500)
                #expect(try await fixture.count("findings") == 0)
                #expect(try await fixture.count("documents") == 0)
            }
        }
    }

    /// The page seals in the browser when the newsroom has a key: the box for the details has no name (a
    /// browser never sends it), the script comes with its hash pinned, and the form's
    /// `source_envelope_sealed` carries the envelope, AES-128-GCM, which the newsroom's key opens.
    @Test func anEnvelopeSealedInThePageIsStoredAndOpensWithTheNewsroomsKey() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { client in
                var liaison = Browser()
                _ = try await liaison.signIn(client, token: fixture.token("liaison", "tuoitre"))
                let withoutKey = try await liaison.get(client, "/desk/findings/new").text
                #expect(!withoutKey.contains("class=\"sealing\"") && !withoutKey.contains("<script"), "no key, nothing to seal to")
                let key = SourcePrivateKey(newsroom: PartyCode(rawValue: "tuoitre")!)
                #expect(
                    try await client.send(
                        .put(
                            "/v1/newsrooms/tuoitre/source-keys", token: fixture.token("liaison", "tuoitre"),
                            json: SourceEnvelopeHTTPTests.keyJSON(key))
                    ).status == .created)
                let page = try await liaison.get(client, "/desk/findings/new")
                #expect(page.text.contains("<script src=\"/assets/seal.js\" integrity=\"\(Scripts.sealIntegrity)\" defer></script>"))
                #expect(page.text.contains("data-public-key=\"\(key.publicKey.base64URL)\""))
                #expect(page.text.contains("<textarea id=\"submit-source_envelope_sealed-details\" rows=\"3\""))
                #expect(!page.text.contains("name=\"source_envelope_sealed-details\""), "the details' box has no name")
                #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self'") == true)

                let script = try await client.send(Call(method: .get, path: "/assets/seal.js", token: nil))
                #expect(script.status == .ok && script.headers[.contentType] == "text/javascript; charset=utf-8")
                #expect("sha256-" + Data(Digest.sha256(script.body)).base64EncodedString() == Scripts.sealIntegrity)
                let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/source-envelopes.md")
                #expect(
                    try String(contentsOf: docs, encoding: .utf8).contains("`\(Scripts.sealIntegrity)`"),
                    "docs/source-envelopes.md publishes the hash")

                let envelope = try SourceEnvelope.seal(Array("Nguyễn Văn A, 0912 345 678".utf8), to: key.publicKey, aead: .aes128GCM)
                let json = try SourceEnvelopeHTTPTests.envelopeJSON(envelope)
                let (action, formKey) = try await Self.form(&liaison, client)
                // A file and a page-sealed envelope together: one too many.
                let twice = try await Self.post(
                    &liaison, client, action,
                    Self.multipart(
                        Self.fields + [("key", formKey), ("source_envelope_sealed", json)],
                        files: [("source_envelope", "e.json", "application/json", Array(json.utf8))]))
                #expect(twice.status == .unprocessableContent && twice.text.contains("id=\"submit-source_envelope-error\""))
                let sent = try await Self.post(
                    &liaison, client, action, Self.multipart(Self.fields + [("key", formKey), ("source_envelope_sealed", json)], files: []))
                #expect(sent.status == .seeOther)
                let stored = try await fixture.client.query("SELECT aead, enc, ciphertext FROM source_envelopes")[0].decode(
                    (String, [UInt8], [UInt8]).self)
                #expect(stored.0 == "aes-128-gcm")
                let back = SourceEnvelope(
                    newsroom: envelope.newsroom, keyID: envelope.keyID, aead: .aes128GCM, encapsulatedKey: stored.1, ciphertext: stored.2)
                #expect(String(decoding: try back.open(with: key), as: UTF8.self) == "Nguyễn Văn A, 0912 345 678")
            }
        }
    }
}
