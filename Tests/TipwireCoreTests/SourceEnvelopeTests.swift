import Foundation
import Testing
import TipwireCore

@Suite("Sealed source envelopes")
struct SourceEnvelopeTests {
    static let tuoitre = PartyCode(rawValue: "tuoitre")!
    static let vnexpress = PartyCode(rawValue: "vnexpress")!
    static let details = Array("Nguyễn Văn A, phòng kế toán, 0912 345 678".utf8)

    @Test(arguments: SourceEnvelope.AEAD.allCases)
    func anEnvelopeOpensWithItsNewsroomsKeyAndReadsBackFromItsJSON(aead: SourceEnvelope.AEAD) throws {
        let key = SourcePrivateKey(newsroom: Self.tuoitre)
        let envelope = try SourceEnvelope.seal(Self.details, to: key.publicKey, aead: aead)
        guard case .object(let fields) = envelope.json else {
            Issue.record("an envelope's JSON is an object")
            return
        }
        #expect(envelope.aead == aead && fields["aead"] == .string(aead.rawValue))
        #expect(envelope.keyID == key.publicKey.id && envelope.newsroom == Self.tuoitre)
        #expect(envelope.encapsulatedKey.count == 32 && envelope.ciphertext.count == Self.details.count + 16)
        let read = try SourceEnvelope.parse(envelope.json, path: "source_envelope")
        #expect(read == envelope)
        #expect(try read.open(with: key) == Self.details)
        // Sealing twice gives different envelopes: a fresh ephemeral key each time.
        #expect(try SourceEnvelope.seal(Self.details, to: key.publicKey, aead: aead).ciphertext != envelope.ciphertext)
        // The other suite's label on the same bytes does not open: the AEAD is bound into the key schedule.
        var relabelled = envelope
        relabelled.aead = aead == .aes128GCM ? .chaCha20Poly1305 : .aes128GCM
        #expect(throws: SourceEnvelopeError.doesNotOpen) { try relabelled.open(with: key) }
    }

    @Test func anEnvelopeWithoutItsAEADIsChaChaAndAnUnknownOneIsRefused() throws {
        let key = SourcePrivateKey(newsroom: Self.tuoitre)
        guard case .object(var fields) = try SourceEnvelope.seal(Self.details, to: key.publicKey).json else {
            Issue.record("an envelope's JSON is an object")
            return
        }
        fields["aead"] = nil
        let old = try SourceEnvelope.parse(.object(fields), path: "source_envelope")
        #expect(old.aead == .chaCha20Poly1305)
        #expect(try old.open(with: key) == Self.details)
        fields["aead"] = .string("aes-256-gcm")
        #expect(throws: ValidationFailure.self) { try SourceEnvelope.parse(.object(fields), path: "source_envelope") }
        do {
            _ = try SourceEnvelope.parse(.object(fields), path: "source_envelope")
        } catch {
            #expect(error.errors.map(\.field) == ["source_envelope.aead"])
        }
    }

    @Test func theKeyFileReadsBackAndIsCheckedAgainstItself() throws {
        let key = SourcePrivateKey(newsroom: Self.tuoitre)
        let read = try SourcePrivateKey.parse(file: key.fileJSON)
        #expect(read.publicKey == key.publicKey)
        guard case .object(var fields) = key.fileJSON else { return }
        fields["key_id"] = .string("0000000000000000")
        #expect(throws: ValidationFailure.self) { try SourcePrivateKey.parse(file: .object(fields)) }
        fields["key_id"] = nil
        fields["kind"] = .string("something else")
        #expect(throws: ValidationFailure.self) { try SourcePrivateKey.parse(file: .object(fields)) }
    }

    /// Every way an envelope can fail to open gives its own reason, never a crash.
    @Test func changedRelabelledTruncatedOrMisaddressedEnvelopesDoNotOpen() throws {
        let key = SourcePrivateKey(newsroom: Self.tuoitre)
        let envelope = try SourceEnvelope.seal(Self.details, to: key.publicKey)

        var tampered = envelope
        tampered.ciphertext[3] ^= 0x01
        #expect(throws: SourceEnvelopeError.doesNotOpen) { try tampered.open(with: key) }

        var truncated = envelope
        truncated.ciphertext.removeLast()
        #expect(throws: SourceEnvelopeError.doesNotOpen) { try truncated.open(with: key) }

        var otherEphemeral = envelope
        otherEphemeral.encapsulatedKey = SourcePrivateKey(newsroom: Self.tuoitre).publicKey.bytes
        #expect(throws: SourceEnvelopeError.doesNotOpen) { try otherEphemeral.open(with: key) }

        let rotated = SourcePrivateKey(newsroom: Self.tuoitre)
        #expect(throws: SourceEnvelopeError.otherKey(envelope: key.publicKey.id, key: rotated.publicKey.id)) { try envelope.open(with: rotated) }

        let others = SourcePrivateKey(newsroom: Self.vnexpress)
        #expect(throws: SourceEnvelopeError.otherNewsroom(envelope: Self.tuoitre, key: Self.vnexpress)) { try envelope.open(with: others) }

        // The same key pair, relabelled as another newsroom's: the associated data no longer matches.
        guard case .object(var fields) = key.fileJSON else { return }
        fields["newsroom"] = .string("vnexpress")
        let relabelledKey = try SourcePrivateKey.parse(file: .object(fields))
        var relabelled = envelope
        relabelled.newsroom = Self.vnexpress
        #expect(throws: SourceEnvelopeError.doesNotOpen) { try relabelled.open(with: relabelledKey) }
    }

    @Test(arguments: [
        (
            #"{"version":2,"newsroom":"tuoitre","key_id":"0123456789abcdef","enc":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA"}"#,
            "x.version"
        ),
        (
            #"{"version":1,"newsroom":"Tuoi Tre","key_id":"0123456789abcdef","enc":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA"}"#,
            "x.newsroom"
        ),
        (
            #"{"version":1,"newsroom":"tuoitre","key_id":"0123456789ABCDEF","enc":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA"}"#,
            "x.key_id"
        ),
        (#"{"version":1,"newsroom":"tuoitre","key_id":"0123456789abcdef","enc":"AAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA"}"#, "x.enc"),
        (
            #"{"version":1,"newsroom":"tuoitre","key_id":"0123456789abcdef","enc":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ciphertext":"AAAA"}"#,
            "x.ciphertext"
        ),
        (
            #"{"version":1,"newsroom":"tuoitre","key_id":"0123456789abcdef","enc":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ciphertext":"@@@@"}"#,
            "x.ciphertext"
        ),
        (#"{"version":1,"newsroom":"tuoitre","key_id":"0123456789abcdef","enc":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#, "x.ciphertext"),
        (
            #"{"version":1,"newsroom":"tuoitre","key_id":"0123456789abcdef","enc":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","ciphertext":"AAAAAAAAAAAAAAAAAAAAAA","plaintext":"x"}"#,
            "x.plaintext"
        ),
        (#"[1,2]"#, "x"),
    ])
    func malformedEnvelopesNameTheirField(json: String, field: String) throws {
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        let failure = try #require(throws: ValidationFailure.self) { try SourceEnvelope.parse(value, path: "x") }
        #expect(failure.errors.map(\.field) == [field], "\(failure)")
    }

    @Test func anOversizedEnvelopeIsRefusedBeforeDecoding() throws {
        let huge = String(repeating: "A", count: 200_000)
        let value = JSONValue.object([
            "version": .number(1), "newsroom": .string("tuoitre"), "key_id": .string("0123456789abcdef"),
            "enc": .string(String(repeating: "A", count: 43)), "ciphertext": .string(huge),
        ])
        #expect(throws: ValidationFailure.self) { try SourceEnvelope.parse(value, path: "x") }
        #expect(throws: SourceEnvelopeError.tooLarge(SourceEnvelope.maximumPlaintext + 1)) {
            try SourceEnvelope.seal(
                [UInt8](repeating: 0, count: SourceEnvelope.maximumPlaintext + 1), to: SourcePrivateKey(newsroom: Self.tuoitre).publicKey)
        }
    }

    @Test func handlesAreRandomAndOnlyTheirOwnShapeParses() {
        let handle = SourceHandle()
        #expect(handle.rawValue.hasPrefix("src_") && handle.rawValue.count == 36)
        #expect(SourceHandle(rawValue: handle.rawValue) == handle)
        #expect(SourceHandle() != handle)
        for text in [
            "", "src_", "src_short", "tw_" + String(handle.rawValue.dropFirst(4)), handle.rawValue + "A", "src_" + String(repeating: "!", count: 32),
        ] {
            #expect(SourceHandle(rawValue: text) == nil, "\(text)")
        }
    }

    @Test func keyIDsAreTheFirstEightBytesOfTheKeysSHA256() {
        let key = SourcePrivateKey(newsroom: Self.tuoitre).publicKey
        #expect(key.id.rawValue == Hex.encode(Digest.sha256(key.bytes).prefix(8)))
        #expect(SourceKeyID(rawValue: "0123456789abcdef") != nil)
        for text in ["0123456789abcde", "0123456789abcdeg", "0123456789ABCDEF", "0123456789abcdef0"] { #expect(SourceKeyID(rawValue: text) == nil) }
    }
}
