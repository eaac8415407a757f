import ChildProcesses
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Postgres
import TestSupport
import Testing
import TipwireCore
import TipwireStore

@Suite("Source keys and sealed envelopes over HTTP")
struct SourceEnvelopeHTTPTests {
    static let tuoitre = PartyCode(rawValue: "tuoitre")!

    static func keyJSON(_ key: SourcePrivateKey) -> String { #"{"public_key":"\#(key.publicKey.base64URL)"}"# }

    static func envelopeJSON(_ envelope: SourceEnvelope) throws -> String {
        String(decoding: try TipwireJSON.encode(envelope.json), as: UTF8.self)
    }

    @Test func aNewsroomRegistersAndRotatesItsKeysAndNoOneElseSeesThem() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { http in
                let liaison = fixture.token("liaison", "tuoitre")
                let path = "/v1/newsrooms/tuoitre/source-keys"
                let first = SourcePrivateKey(newsroom: Self.tuoitre)
                let registered = try await http.send(.put(path, token: liaison, json: Self.keyJSON(first)))
                #expect(registered.status == .created, "\(registered.text)")
                #expect(try registered.json()["current_key_id"] as? String == first.publicKey.id.rawValue)
                let again = try await http.send(.put(path, token: liaison, json: Self.keyJSON(first)))
                #expect(again.status == .ok)

                let second = SourcePrivateKey(newsroom: Self.tuoitre)
                #expect(try await http.send(.put(path, token: liaison, json: Self.keyJSON(second))).status == .created)
                let listed = try await http.send(.get(path, token: liaison))
                let keys = try #require(try listed.json()["keys"] as? [[String: Any]])
                #expect(keys.map { $0["key_id"] as? String } == [second.publicKey.id.rawValue, first.publicKey.id.rawValue])
                #expect(keys[0]["retired_at"] is NSNull && keys[1]["retired_at"] is String)
                #expect(try listed.json()["current_key_id"] as? String == second.publicKey.id.rawValue)

                let back = try await http.send(.put(path, token: liaison, json: Self.keyJSON(first)))
                #expect(back.status == .conflict && back.text.contains("retired"), "\(back.text)")
                let bad = try await http.send(.put(path, token: liaison, json: #"{"public_key":"AAAA"}"#))
                #expect(try bad.status == .unprocessableContent && bad.problemFields() == ["public_key"], "\(bad.text)")
                let stolen = try await http.send(
                    .put("/v1/newsrooms/vnexpress/source-keys", token: fixture.token("liaison", "vnexpress"), json: Self.keyJSON(second)))
                #expect(stolen.status == .conflict, "\(stolen.text)")

                // An agency reads the public keys (to seal a protection case's details) but registers none.
                let agencyRead = try await http.send(.get(path, token: fixture.token("agency", "so-nnmt")))
                #expect(try agencyRead.status == .ok && agencyRead.json()["current_key_id"] as? String == second.publicKey.id.rawValue)
                #expect(
                    try await http.send(.get("/v1/newsrooms/vnexpress/source-keys", token: fixture.token("agency", "so-nnmt"))).status == .notFound)
                #expect(
                    try await http.send(
                        .put(path, token: fixture.token("agency", "so-nnmt"), json: Self.keyJSON(SourcePrivateKey(newsroom: Self.tuoitre)))
                    )
                    .status == .notFound)
                for other in [
                    fixture.token("liaison", "vnexpress"), fixture.token("coordinator", "thanh-tra-tp"), fixture.token("auditor"),
                    fixture.token("admin"),
                ] {
                    #expect(try await http.send(.get(path, token: other)).status == .notFound)
                    #expect(
                        try await http.send(.put(path, token: other, json: Self.keyJSON(SourcePrivateKey(newsroom: Self.tuoitre)))).status
                            == .notFound)
                }
                #expect(try await http.send(.get(path, token: nil)).status == .unauthorized)
                let audited = try await fixture.stores.audit.list(
                    {
                        var filter = AuditFilter()
                        filter.action = .sourceKeyRegistered
                        return filter
                    }())
                #expect(audited.items.count == 2 && audited.items[0].detail == .object(["retired_key_id": .string(first.publicKey.id.rawValue)]))
            }
        }
    }

    /// The finding shows only the handle; the envelope goes back to its newsroom's liaisons alone, each
    /// read audited; to everyone else the handle does not exist.
    @Test func anEnvelopeIsStoredApartAndReturnedOnlyToItsNewsroom() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { http in
                let liaison = fixture.token("liaison", "tuoitre")
                let key = SourcePrivateKey(newsroom: Self.tuoitre)
                #expect(try await http.send(.put("/v1/newsrooms/tuoitre/source-keys", token: liaison, json: Self.keyJSON(key))).status == .created)
                let envelope = try SourceEnvelope.seal(Array("Trần Văn B, kế toán trưởng".utf8), to: key.publicKey)
                let ciphertext = Base64URL.encode(envelope.ciphertext)
                let created = try await http.send(
                    .post("/v1/findings", token: liaison, json: findingJSON(sourceEnvelope: try Self.envelopeJSON(envelope))))
                #expect(created.status == .created, "\(created.text)")
                #expect(!created.text.contains(ciphertext) && !created.text.contains("ciphertext"))
                let handle = try #require(try created.json()["source_handle"] as? String)
                #expect(SourceHandle(rawValue: handle) != nil)
                let findingID = try #require(try created.json()["id"] as? String)

                let agency = fixture.token("agency", "so-nnmt")
                let seen = try await http.send(.get("/v1/findings/\(findingID)", token: agency))
                #expect(try seen.status == .ok && seen.json()["source_handle"] as? String == handle && !seen.text.contains(ciphertext))

                let read = try await http.send(.get("/v1/sources/\(handle)", token: liaison))
                #expect(read.status == .ok && read.headers[.cacheControl] == "no-store", "\(read.text)")
                let stored = try JSONDecoder().decode(JSONValue.self, from: Data(read.body))
                guard case .object(var fields) = stored else { throw TestSetupError("not an object: \(read.text)") }
                #expect(fields["finding_id"] == .string(findingID))
                for name in ["handle", "created_at", "finding_id"] { fields[name] = nil }
                #expect(try SourceEnvelope.parse(.object(fields), path: "").open(with: key) == Array("Trần Văn B, kế toán trưởng".utf8))

                for other in [
                    fixture.token("liaison", "vnexpress"), agency, fixture.token("coordinator", "thanh-tra-tp"), fixture.token("auditor"),
                    fixture.token("admin"),
                ] {
                    let refused = try await http.send(.get("/v1/sources/\(handle)", token: other))
                    #expect(refused.status == .notFound && !refused.text.contains(ciphertext))
                }
                #expect(try await http.send(.get("/v1/sources/\(SourceHandle().rawValue)", token: liaison)).status == .notFound)
                #expect(try await http.send(.get("/v1/sources/not-a-handle", token: liaison)).status == .notFound)
                #expect(try await http.send(.get("/v1/sources/\(handle)", token: nil)).status == .unauthorized)

                var filter = AuditFilter()
                filter.action = .sourceRead
                let reads = try await fixture.stores.audit.list(filter).items
                #expect(reads.count == 1 && reads[0].object == "sources/\(handle)" && reads[0].actor.hasPrefix("liaison:tuoitre"))

                // The ciphertext is in the envelopes table and nowhere else a row could carry it.
                let hex = Hex.encode(envelope.ciphertext)
                for (table, column) in [
                    ("outbox", "payload::text"), ("idempotency_keys", "response"), ("audit_log", "detail::text"), ("findings", "summary"),
                ] {
                    let leaks = try await fixture.client.query(
                        "SELECT count(*) FROM \(identifier: table) WHERE \(unescaped: column) LIKE '%' || \(ciphertext) || '%' OR \(unescaped: column) LIKE '%' || \(hex) || '%'"
                    )[0].decode(column: 0, as: Int.self)
                    #expect(leaks == 0, "\(table)")
                }
            }
        }
    }

    @Test func envelopesToTheWrongKeyOrNewsroomOrMalformedAreRefusedAndNothingIsWritten() async throws {
        try await Fixture.with { fixture in
            try await fixture.app().test(.router) { http in
                let liaison = fixture.token("liaison", "tuoitre")
                let old = SourcePrivateKey(newsroom: Self.tuoitre)
                let noKeyYet = try await http.send(
                    .post(
                        "/v1/findings", token: liaison,
                        json: findingJSON(sourceEnvelope: try Self.envelopeJSON(try SourceEnvelope.seal([1], to: old.publicKey)))))
                #expect(try noKeyYet.status == .unprocessableContent && noKeyYet.problemFields() == ["source_envelope.key_id"], "\(noKeyYet.text)")
                #expect(try await http.send(.put("/v1/newsrooms/tuoitre/source-keys", token: liaison, json: Self.keyJSON(old))).status == .created)
                let current = SourcePrivateKey(newsroom: Self.tuoitre)
                #expect(
                    try await http.send(.put("/v1/newsrooms/tuoitre/source-keys", token: liaison, json: Self.keyJSON(current))).status == .created)
                let before = try await fixture.tableCounts()
                let cases: [(String, String)] = [
                    (try Self.envelopeJSON(try SourceEnvelope.seal([1], to: old.publicKey)), "source_envelope.key_id"),
                    (
                        try Self.envelopeJSON(
                            try SourceEnvelope.seal([1], to: SourcePrivateKey(newsroom: PartyCode(rawValue: "vnexpress")!).publicKey)),
                        "source_envelope.newsroom"
                    ),
                    (
                        #"{"version":1,"newsroom":"tuoitre","key_id":"\#(current.publicKey.id)","enc":"AAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA"}"#,
                        "source_envelope.enc"
                    ),
                    (#""sealed?""#, "source_envelope"),
                    (#"{"plaintext":"Nguyễn Văn A"}"#, "source_envelope.plaintext"),
                ]
                for (envelope, field) in cases {
                    let refused = try await http.send(.post("/v1/findings", token: liaison, json: findingJSON(sourceEnvelope: envelope)))
                    #expect(try refused.status == .unprocessableContent && refused.problemFields().contains(field), "\(field): \(refused.text)")
                    #expect(!refused.text.contains("Nguyễn Văn A"))
                }
                #expect(try await fixture.tableCounts() == before)
                #expect(try await fixture.count("source_envelopes") == 0)
            }
        }
    }

    /// pyhpke, an independent HPKE implementation that knows only docs/source-envelopes.md, and
    /// `tipwire source` seal and open each other's envelopes; every broken envelope is a clear error.
    @Test func envelopesInteroperateWithPyhpkeAndBrokenOnesAreClearErrors() async throws {
        let binary = try tipwireBinary()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("hpke_interop.py").path
        try await ScratchDirectory.with("tipwire-hpke") { work in
            func path(_ name: String) -> String { work.path(name) }

            let keygen = try await runProgram(binary, ["source", "keygen", "--newsroom", "tuoitre", "--out", path("tuoitre.key")])
            #expect(keygen.status == 0, "\(keygen.errors)")
            let mode = try FileManager.default.attributesOfItem(atPath: path("tuoitre.key"))[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let publicKey = try #require(
                (try JSONSerialization.jsonObject(with: Data(keygen.output.utf8)) as? [String: String])?["public_key"], "\(keygen.output)")
            let pythonKeyID = try await runProgram("/usr/bin/env", ["python3", script, "key-id", publicKey])
            #expect(pythonKeyID.status == 0, "pyhpke is missing? deploy/local/test installs it: \(pythonKeyID.errors)")
            #expect(keygen.errors.contains("key id \(pythonKeyID.output.trimmingCharacters(in: .whitespacesAndNewlines))"))

            let canary = "canary-7f3c Nguyễn Thị C, 0987 654 321"
            try canary.write(toFile: path("details.txt"), atomically: true, encoding: .utf8)
            var sealedBySuite: [String: String] = [:]
            for aead in SourceEnvelope.AEAD.allCases.map(\.rawValue) {
                let fromPython = try await runProgram("/usr/bin/env", ["python3", script, "seal", "tuoitre", publicKey, canary, aead])
                #expect(fromPython.status == 0, "\(aead): \(fromPython.errors)")
                #expect(fromPython.output.contains("\"aead\": \"\(aead)\""))
                try fromPython.output.write(toFile: path("from-python.json"), atomically: true, encoding: .utf8)
                let opened = try await runProgram(binary, ["source", "open", "--key", path("tuoitre.key"), "--in", path("from-python.json")])
                #expect(opened.status == 0 && opened.output == canary, "\(aead): \(opened.errors)")

                let sealed = try await runProgram(
                    binary, ["source", "seal", "--newsroom", "tuoitre", "--public-key", publicKey, "--in", path("details.txt"), "--aead", aead])
                #expect(sealed.status == 0, "\(aead): \(sealed.errors)")
                try sealed.output.write(toFile: path("from-tipwire.json"), atomically: true, encoding: .utf8)
                let byPython = try await runProgram("/usr/bin/env", ["python3", script, "open", path("tuoitre.key"), path("from-tipwire.json")])
                #expect(byPython.status == 0 && byPython.output == canary, "\(aead): \(byPython.errors)")
                sealedBySuite[aead] = sealed.output
            }
            let sealed = (output: try #require(sealedBySuite["chacha20-poly1305"]), status: 0)
            // An envelope whose `aead` is changed does not open: the suite is part of what is sealed.
            let aesSealed = try #require(sealedBySuite["aes-128-gcm"])
            var relabelled = try #require(try JSONSerialization.jsonObject(with: Data(aesSealed.utf8)) as? [String: Any])
            relabelled["aead"] = "chacha20-poly1305"
            try JSONSerialization.data(withJSONObject: relabelled).write(to: URL(fileURLWithPath: path("relabelled.json")))
            let wrongSuite = try await runProgram(binary, ["source", "open", "--key", path("tuoitre.key"), "--in", path("relabelled.json")])
            #expect(wrongSuite.status == 1 && wrongSuite.errors.contains("does not open"), "\(wrongSuite.errors)")
            let unknown = try await runProgram(
                binary, ["source", "seal", "--newsroom", "tuoitre", "--public-key", publicKey, "--in", path("details.txt"), "--aead", "rot13"])
            #expect(unknown.status != 0 && unknown.errors.contains("--aead"))

            // Broken envelopes, each opened by tipwire: exit 1 with the reason, never a crash.
            var envelope = try #require(try JSONSerialization.jsonObject(with: Data(sealed.output.utf8)) as? [String: Any])
            let ciphertext = try #require(envelope["ciphertext"] as? String)
            var flipped = Array(ciphertext)
            flipped[5] = flipped[5] == "A" ? "B" : "A"
            _ = try await runProgram(binary, ["source", "keygen", "--newsroom", "vnexpress", "--out", path("vnexpress.key")])
            let broken: [(String, [String: Any], String, String)] = [
                ("tampered", envelope.merging(["ciphertext": String(flipped)]) { $1 }, "tuoitre.key", "does not open"),
                ("wrong key id", envelope.merging(["key_id": "0123456789abcdef"]) { $1 }, "tuoitre.key", "sealed to source key 0123456789abcdef"),
                ("another newsroom's key", envelope, "vnexpress.key", "sealed for newsroom tuoitre"),
                ("truncated ciphertext", envelope.merging(["ciphertext": String(ciphertext.dropLast(4))]) { $1 }, "tuoitre.key", "does not open"),
            ]
            for (name, value, key, reason) in broken {
                try JSONSerialization.data(withJSONObject: value).write(to: URL(fileURLWithPath: path("broken.json")))
                let result = try await runProgram(binary, ["source", "open", "--key", path(key), "--in", path("broken.json")])
                #expect(result.status == 1 && result.errors.contains(reason) && result.output.isEmpty, "\(name): \(result.status) \(result.errors)")
            }
            envelope["ciphertext"] = nil
            try String(sealed.output.prefix(sealed.output.count / 2)).write(toFile: path("cut.json"), atomically: true, encoding: .utf8)
            let cut = try await runProgram(binary, ["source", "open", "--key", path("tuoitre.key"), "--in", path("cut.json")])
            #expect(cut.status == 1 && cut.errors.contains("cut short"), "\(cut.errors)")
        }
    }
}
