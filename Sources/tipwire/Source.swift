import ArgumentParser
import Foundation
import TipwireCommandLine
import TipwireCore

struct Source: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Newsroom source keys and sealed source envelopes, on the liaison's own machine.",
        discussion: """
            A source's details never reach the server in plain text. The newsroom makes a key pair once
            (keygen) and registers the public key; a liaison seals the details to it (seal) and sends the
            envelope with the finding as `source_envelope`; the server keeps only the ciphertext, under a
            handle `src_…`, and returns it to the newsroom's liaisons alone; the newsroom opens it with the
            private key (open). HPKE (RFC 9180): DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, and
            ChaCha20-Poly1305 or AES-128-GCM (the envelope says which).
            The format is in docs/source-envelopes.md.

            Examples:
              tipwire source keygen --newsroom tuoitre --out tuoitre-source.key >key.json
              curl -X PUT "$TIPWIRE_URL/v1/newsrooms/tuoitre/source-keys" -H "Authorization: Bearer $TOKEN" \\
                   -H 'content-type: application/json' -d @key.json
              echo 'Nguyễn Văn A, 0912 345 678' | tipwire source seal --newsroom tuoitre --public-key "$(jq -r .public_key key.json)" >envelope.json
              curl -H "Authorization: Bearer $TOKEN" "$TIPWIRE_URL/v1/sources/src_…" | tipwire source open --key tuoitre-source.key
            """,
        subcommands: [Keygen.self, Seal.self, Open.self])

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a newsroom source key pair: the private key to a new file (mode 0600), the public key to standard output.",
            discussion: """
                Prints `{"public_key": …}`, the body PUT /v1/newsrooms/{code}/source-keys takes; its key id goes
                to standard error. Keep the key file off the server, and keep old key files after rotating:
                envelopes sealed to an old key open only with it.
                """)
        @Option(help: "The newsroom's code, e.g. tuoitre.") var newsroom: String
        @Option(help: "Where to write the private key; an existing file is never overwritten.") var out: String

        func run() throws {
            guard let code = PartyCode(rawValue: newsroom) else {
                throw ValidationError("--newsroom: \(PartyCode.validate(newsroom) ?? "not a code")")
            }
            let key = SourcePrivateKey(newsroom: code)
            let descriptor = open(out, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            guard descriptor >= 0 else { throw StartupError(description: "cannot create \(out): \(String(cString: strerror(errno)))") }
            let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
            try handle.write(contentsOf: try TipwireJSON.encode(key.fileJSON) + [0x0A])
            try handle.close()
            FileHandle.standardError.write(Data("wrote \(out) (mode 0600): newsroom \(code), key id \(key.publicKey.id)\n".utf8))
            print(String(decoding: try TipwireJSON.encode(JSONValue.object(["public_key": .string(key.publicKey.base64URL)])), as: UTF8.self))
        }
    }

    struct Seal: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal source details (standard input or --in) to the newsroom's current public key; print the envelope JSON.",
            discussion: """
                The envelope is what POST /v1/findings takes as `source_envelope`. The public key is the one
                GET /v1/newsrooms/{code}/source-keys lists as current; the server refuses envelopes sealed to
                any other.
                """)
        @Option(help: "The newsroom's code.") var newsroom: String
        @Option(name: .customLong("public-key"), parsing: .unconditional, help: "The newsroom's current source public key (base64url).")
        var publicKey: String
        @Option(name: .customLong("in"), help: "Read the details from this file instead of standard input.") var input: String?
        @Option(
            help: """
                The HPKE AEAD: chacha20-poly1305 (the default) or aes-128-gcm (what the desk's page seals with). \
                The envelope records it; `tipwire source open` opens either.
                """)
        var aead: String = SourceEnvelope.AEAD.chaCha20Poly1305.rawValue

        func run() throws {
            guard let suite = SourceEnvelope.AEAD(rawValue: aead) else {
                throw ValidationError("--aead: one of \(SourceEnvelope.AEAD.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let code = PartyCode(rawValue: newsroom) else {
                throw ValidationError("--newsroom: \(PartyCode.validate(newsroom) ?? "not a code")")
            }
            guard let key = SourcePublicKey(newsroom: code, base64URL: publicKey) else {
                throw ValidationError("--public-key: must be a 32-byte X25519 public key in base64url, as `tipwire source keygen` prints it")
            }
            let plaintext = try readInput(input, limit: SourceEnvelope.maximumPlaintext)
            let envelope = try SourceEnvelope.seal(plaintext, to: key, aead: suite)
            print(String(decoding: try TipwireJSON.encode(envelope.json), as: UTF8.self))
        }
    }

    struct Open: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open an envelope (standard input or --in) with the newsroom's private key file; print the details.",
            discussion: """
                Takes the envelope as sealed, or as GET /v1/sources/{handle} returns it. A changed, cut-short or
                relabelled envelope, or one sealed to another key or newsroom, is refused with the reason.
                """)
        @Option(help: "The private key file `tipwire source keygen` wrote.") var key: String
        @Option(name: .customLong("in"), help: "Read the envelope from this file instead of standard input.") var input: String?

        func run() throws {
            let privateKey: SourcePrivateKey
            do {
                privateKey = try SourcePrivateKey.parse(file: try JSONValue.parse(try readInput(key, limit: 4096), what: key))
            } catch let failure as ValidationFailure {
                throw StartupError(description: "\(key) is not a usable source key file: \(failure)")
            }
            var value = try JSONValue.parse(try readInput(input, limit: 256 * 1024), what: input ?? "the envelope")
            // GET /v1/sources/{handle} wraps the envelope's fields with where it is stored.
            if case .object(var fields) = value, fields["handle"] != nil {
                for name in ["handle", "created_at", "finding_id"] { fields[name] = nil }
                value = .object(fields)
            }
            let envelope: SourceEnvelope
            do {
                envelope = try SourceEnvelope.parse(value, path: "")
            } catch {
                throw StartupError(description: "not a source envelope: \(error)")
            }
            do {
                FileHandle.standardOutput.write(Data(try envelope.open(with: privateKey)))
            } catch {
                throw StartupError(description: "\(error)")
            }
        }
    }
}

/// The bytes of `path`, or of standard input when nil; at most `limit`.
private func readInput(_ path: String?, limit: Int) throws -> [UInt8] {
    let handle: FileHandle
    if let path {
        guard let file = FileHandle(forReadingAtPath: path) else { throw StartupError(description: "cannot read \(path)") }
        handle = file
    } else {
        handle = .standardInput
    }
    let data = try handle.read(upToCount: limit + 1) ?? Data()
    guard data.count <= limit else { throw StartupError(description: "\(path ?? "standard input") is larger than \(limit) bytes") }
    return Array(data)
}

extension JSONValue {
    fileprivate static func parse(_ bytes: [UInt8], what: String) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw StartupError(description: "\(what) is not JSON (is it cut short?)")
        }
    }
}
