import Crypto
import Foundation

/// A journalist's source details, sealed on the liaison's machine to the newsroom's source key with HPKE
/// (RFC 9180, base mode: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305). The server stores it
/// and hands it back to the owning newsroom; it never holds a key that opens it. docs/source-envelopes.md
/// specifies the format, so a newsroom can seal and open with its own tools.
public struct SourceEnvelope: Sendable, Hashable {
    public static let version = 1
    /// HPKE's `info`: names the purpose and the format's version.
    public static let info = Array("tipwire source envelope v1".utf8)
    /// The HPKE AEAD an envelope is sealed with, named in its `aead` field. ChaCha20-Poly1305 is what
    /// `tipwire source seal` uses (and an envelope without the field means); AES-128-GCM is what a
    /// browser can seal with WebCrypto alone.
    public enum AEAD: String, Sendable, Hashable, CaseIterable {
        case chaCha20Poly1305 = "chacha20-poly1305"
        case aes128GCM = "aes-128-gcm"

        var hpke: HPKE.AEAD {
            switch self {
            case .chaCha20Poly1305: .chaChaPoly
            case .aes128GCM: .AES_GCM_128
            }
        }
    }

    public static func ciphersuite(_ aead: AEAD) -> HPKE.Ciphersuite {
        HPKE.Ciphersuite(kem: .Curve25519_HKDF_SHA256, kdf: .HKDF_SHA256, aead: aead.hpke)
    }
    /// Sealed details of at most 64 KiB; the AEAD adds a 16-byte tag.
    public static let maximumPlaintext = 65_536
    static let tagSize = 16
    static let encapsulatedKeySize = 32
    public static let fields: Set<String> = ["version", "newsroom", "key_id", "aead", "enc", "ciphertext"]

    public var newsroom: PartyCode
    public var keyID: SourceKeyID
    public var aead: AEAD
    /// HPKE's encapsulated key: the sender's ephemeral X25519 public key.
    public var encapsulatedKey: [UInt8]
    public var ciphertext: [UInt8]

    public init(newsroom: PartyCode, keyID: SourceKeyID, aead: AEAD = .chaCha20Poly1305, encapsulatedKey: [UInt8], ciphertext: [UInt8]) {
        self.newsroom = newsroom
        self.keyID = keyID
        self.aead = aead
        self.encapsulatedKey = encapsulatedKey
        self.ciphertext = ciphertext
    }

    /// Why a server holding `newsroom`'s current key id (nil: none registered) refuses this envelope from
    /// that newsroom, naming `field`; nil when it is sealed to that key.
    public func problem(from newsroom: PartyCode, currentKey: SourceKeyID?, field: String) -> FieldError? {
        if self.newsroom != newsroom {
            return FieldError("\(field).newsroom", "must be \(newsroom): seal to that newsroom's own key")
        }
        guard let currentKey else {
            return FieldError("\(field).key_id", "\(newsroom) has no source key yet: register one at PUT /v1/newsrooms/\(newsroom)/source-keys")
        }
        if keyID != currentKey {
            return FieldError("\(field).key_id", "is not \(newsroom)'s current source key (\(currentKey)); seal again to the current key")
        }
        return nil
    }

    /// HPKE's additional authenticated data: binds the ciphertext to its newsroom and key, so an envelope
    /// relabelled for another newsroom or key does not open.
    public static func associatedData(newsroom: PartyCode, keyID: SourceKeyID) -> [UInt8] {
        Array("tipwire-source-envelope/v1/\(newsroom)/\(keyID)".utf8)
    }

    /// Seals `plaintext` to `key`, the newsroom's current source key.
    public static func seal(
        _ plaintext: some Collection<UInt8>, to key: SourcePublicKey, aead: AEAD = .chaCha20Poly1305
    ) throws(SourceEnvelopeError) -> SourceEnvelope {
        guard plaintext.count <= maximumPlaintext else { throw .tooLarge(plaintext.count) }
        do {
            var sender = try HPKE.Sender(recipientKey: key.key, ciphersuite: ciphersuite(aead), info: Data(info))
            let sealed = try sender.seal(Array(plaintext), authenticating: associatedData(newsroom: key.newsroom, keyID: key.id))
            return SourceEnvelope(
                newsroom: key.newsroom, keyID: key.id, aead: aead, encapsulatedKey: Array(sender.encapsulatedKey), ciphertext: Array(sealed))
        } catch {
            throw .sealing("\(error)")
        }
    }

    /// Opens the envelope with the newsroom's private key. Names what does not match before trying, and
    /// says plainly when the ciphertext does not authenticate.
    public func open(with key: SourcePrivateKey) throws(SourceEnvelopeError) -> [UInt8] {
        guard newsroom == key.publicKey.newsroom else { throw .otherNewsroom(envelope: newsroom, key: key.publicKey.newsroom) }
        guard keyID == key.publicKey.id else { throw .otherKey(envelope: keyID, key: key.publicKey.id) }
        do {
            var recipient = try HPKE.Recipient(
                privateKey: key.key, ciphersuite: Self.ciphersuite(aead), info: Data(Self.info), encapsulatedKey: Data(encapsulatedKey))
            return Array(try recipient.open(ciphertext, authenticating: Self.associatedData(newsroom: newsroom, keyID: keyID)))
        } catch {
            throw .doesNotOpen
        }
    }

    // MARK: - JSON

    /// `{"version":1,"newsroom":…,"key_id":…,"enc":…,"ciphertext":…}`, bytes in base64url without padding.
    public var json: JSONValue {
        .object([
            "version": .number(Double(Self.version)), "newsroom": .string(newsroom.rawValue), "key_id": .string(keyID.rawValue),
            "aead": .string(aead.rawValue), "enc": .string(Base64URL.encode(encapsulatedKey)), "ciphertext": .string(Base64URL.encode(ciphertext)),
        ])
    }

    /// Reads an envelope, naming every bad field under `path` (e.g. `source_envelope.enc`).
    public static func parse(_ value: JSONValue, path: String) throws(ValidationFailure) -> SourceEnvelope {
        var reader = FieldReader(object: value, allowed: fields)
        if let version = reader.integer("version"), version != Self.version {
            reader.fail("version", "must be \(Self.version) (the only envelope format there is)")
        }
        let newsroom = reader.code("newsroom")
        let keyID = reader.string("key_id").flatMap { text -> SourceKeyID? in
            guard let id = SourceKeyID(rawValue: text) else {
                reader.fail("key_id", "must be a source key id: 16 lower-case hex digits")
                return nil
            }
            return id
        }
        let aead = reader.string("aead", required: false).flatMap { text -> AEAD? in
            guard let aead = AEAD(rawValue: text) else {
                reader.fail("aead", "must be one of: \(AEAD.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            return aead
        }
        let encapsulatedKey = reader.string("enc").flatMap { text -> [UInt8]? in
            guard let bytes = Base64URL.decode(text), bytes.count == encapsulatedKeySize else {
                reader.fail("enc", "must be the \(encapsulatedKeySize)-byte HPKE encapsulated key in base64url")
                return nil
            }
            return bytes
        }
        let ciphertext = reader.string("ciphertext").flatMap { text -> [UInt8]? in
            guard text.utf8.count <= (maximumPlaintext + tagSize) * 4 / 3 + 4, let bytes = Base64URL.decode(text) else {
                reader.fail("ciphertext", "must be base64url of at most \(maximumPlaintext + tagSize) bytes")
                return nil
            }
            guard bytes.count >= tagSize, bytes.count <= maximumPlaintext + tagSize else {
                reader.fail("ciphertext", "must be from \(tagSize) to \(maximumPlaintext + tagSize) bytes (got \(bytes.count)); is it truncated?")
                return nil
            }
            return bytes
        }
        guard reader.errors.isEmpty, let newsroom, let keyID, let encapsulatedKey, let ciphertext else {
            let prefix = path.isEmpty ? "" : path + "."
            throw ValidationFailure(
                reader.errors.map { FieldError($0.field == "body" ? path.isEmpty ? "body" : path : prefix + $0.field, $0.reason) })
        }
        return SourceEnvelope(
            newsroom: newsroom, keyID: keyID, aead: aead ?? .chaCha20Poly1305, encapsulatedKey: encapsulatedKey, ciphertext: ciphertext)
    }
}

/// A source key's id: the first 8 bytes of the SHA-256 of its raw X25519 public key, in lower-case hex.
/// Derived, so a newsroom's own tools compute the same id.
public struct SourceKeyID: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init?(rawValue: String) {
        guard rawValue.utf8.count == 16, rawValue.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else { return nil }
        self.rawValue = rawValue
    }

    public init(of publicKey: some Collection<UInt8>) {
        rawValue = Hex.encode(Digest.sha256(publicKey).prefix(8))
    }

    public var description: String { rawValue }
}

/// A newsroom's source public key: what liaisons seal to and what the server lists.
public struct SourcePublicKey: Sendable, Hashable {
    public let newsroom: PartyCode
    /// The 32 raw X25519 bytes.
    public let bytes: [UInt8]
    public var id: SourceKeyID { SourceKeyID(of: bytes) }
    public var base64URL: String { Base64URL.encode(bytes) }

    var key: Curve25519.KeyAgreement.PublicKey {
        // The bytes were checked to be a key when this value was made.
        get throws { try Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes) }
    }

    init(newsroom: PartyCode, key: Curve25519.KeyAgreement.PublicKey) {
        self.newsroom = newsroom
        bytes = Array(key.rawRepresentation)
    }

    /// The 32 raw bytes in base64url, as `tipwire source keygen` prints them; nil when they are not that.
    public init?(newsroom: PartyCode, base64URL text: String) {
        guard text.utf8.count <= 64, let bytes = Base64URL.decode(text) else { return nil }
        self.init(newsroom: newsroom, bytes: bytes)
    }

    public init?(newsroom: PartyCode, bytes: [UInt8]) {
        guard bytes.count == 32, let key = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: bytes) else { return nil }
        self.init(newsroom: newsroom, key: key)
    }
}

/// A newsroom's source private key, kept by the newsroom in a file only it can read.
public struct SourcePrivateKey: Sendable {
    private let secret: [UInt8]
    public let publicKey: SourcePublicKey

    /// A new random key.
    public init(newsroom: PartyCode) {
        self.init(newsroom: newsroom, key: Curve25519.KeyAgreement.PrivateKey())
    }

    init(newsroom: PartyCode, key: Curve25519.KeyAgreement.PrivateKey) {
        secret = Array(key.rawRepresentation)
        publicKey = SourcePublicKey(newsroom: newsroom, key: key.publicKey)
    }

    var key: Curve25519.KeyAgreement.PrivateKey {
        get throws { try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: secret) }
    }

    /// The key file: `{"kind":"tipwire-source-key","version":1,"newsroom":…,"key_id":…,"public_key":…,"private_key":…}`.
    public var fileJSON: JSONValue {
        .object([
            "kind": .string(Self.fileKind), "version": .number(1), "newsroom": .string(publicKey.newsroom.rawValue),
            "key_id": .string(publicKey.id.rawValue), "public_key": .string(publicKey.base64URL),
            "private_key": .string(Base64URL.encode(secret)),
        ])
    }

    static let fileKind = "tipwire-source-key"

    /// Reads a key file, checking that its public key and id belong to its private key.
    public static func parse(file value: JSONValue) throws(ValidationFailure) -> SourcePrivateKey {
        var reader = FieldReader(object: value, allowed: ["kind", "version", "newsroom", "key_id", "public_key", "private_key"])
        if let kind = reader.string("kind"), kind != fileKind { reader.fail("kind", "must be \(fileKind): this is not a tipwire source key file") }
        let newsroom = reader.code("newsroom")
        let secret = reader.string("private_key").flatMap { text -> Curve25519.KeyAgreement.PrivateKey? in
            guard text.utf8.count <= 64, let bytes = Base64URL.decode(text), bytes.count == 32,
                let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: bytes)
            else {
                reader.fail("private_key", "must be a 32-byte X25519 private key in base64url")
                return nil
            }
            return key
        }
        let keyID = reader.string("key_id", required: false)
        let publicText = reader.string("public_key", required: false)
        guard reader.errors.isEmpty, let newsroom, let secret else { throw ValidationFailure(reader.errors) }
        let key = SourcePrivateKey(newsroom: newsroom, key: secret)
        if let keyID, keyID != key.publicKey.id.rawValue {
            throw ValidationFailure("key_id", "does not match the private key (its id is \(key.publicKey.id))")
        }
        if let publicText, publicText != key.publicKey.base64URL {
            throw ValidationFailure("public_key", "does not match the private key")
        }
        return key
    }
}

public enum SourceEnvelopeError: Error, Sendable, Hashable, CustomStringConvertible {
    case otherNewsroom(envelope: PartyCode, key: PartyCode)
    case otherKey(envelope: SourceKeyID, key: SourceKeyID)
    case doesNotOpen
    case tooLarge(Int)
    case sealing(String)

    public var description: String {
        switch self {
        case .otherNewsroom(let envelope, let key):
            "the envelope is sealed for newsroom \(envelope); this key is newsroom \(key)'s"
        case .otherKey(let envelope, let key):
            "the envelope is sealed to source key \(envelope); this key is \(key) (keep rotated keys to open older envelopes)"
        case .doesNotOpen:
            "the envelope does not open with this key: its ciphertext or encapsulated key was changed or cut short after sealing"
        case .tooLarge(let size):
            "source details must be at most \(SourceEnvelope.maximumPlaintext) bytes (got \(size))"
        case .sealing(let reason):
            "cannot seal: \(reason)"
        }
    }
}

/// A stored envelope's handle: `src_` and 24 random bytes in base64url. Pseudonymous: it says nothing
/// about the source, the finding or the newsroom.
public struct SourceHandle: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public static let prefix = "src_"
    public let rawValue: String

    public init() {
        var generator = SystemRandomNumberGenerator()
        rawValue = Self.prefix + Base64URL.encode((0..<24).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    public init?(rawValue: String) {
        guard rawValue.hasPrefix(Self.prefix), rawValue.utf8.count == Self.prefix.utf8.count + 32,
            let bytes = Base64URL.decode(String(rawValue.dropFirst(Self.prefix.count))), bytes.count == 24
        else { return nil }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
}
