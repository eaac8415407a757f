#!/usr/bin/env python3
"""Seals and opens tipwire source envelopes with pyhpke, an independent HPKE implementation, following
docs/source-envelopes.md and nothing else from tipwire.

usage: hpke_interop.py seal NEWSROOM PUBLIC_KEY_B64URL PLAINTEXT [AEAD]   prints an envelope (JSON);
                                                                          AEAD: chacha20-poly1305 (default) or aes-128-gcm
       hpke_interop.py open KEY_FILE ENVELOPE_FILE                 prints the plaintext
       hpke_interop.py key-id PUBLIC_KEY_B64URL                     prints the key id
"""
import base64
import hashlib
import json
import sys

from pyhpke import AEADId, CipherSuite, KDFId, KEMId

SUITES = {
    name: CipherSuite.new(KEMId.DHKEM_X25519_HKDF_SHA256, KDFId.HKDF_SHA256, aead)
    for name, aead in (("chacha20-poly1305", AEADId.CHACHA20_POLY1305), ("aes-128-gcm", AEADId.AES128_GCM))
}
INFO = b"tipwire source envelope v1"


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_id(public_key):
    return hashlib.sha256(public_key).digest()[:8].hex()


def aad(newsroom, kid):
    return f"tipwire-source-envelope/v1/{newsroom}/{kid}".encode()


def seal(newsroom, public_key_text, plaintext, aead="chacha20-poly1305"):
    suite = SUITES[aead]
    public_key = b64url_decode(public_key_text)
    kid = key_id(public_key)
    enc, sender = suite.create_sender_context(suite.kem.deserialize_public_key(public_key), info=INFO)
    ciphertext = sender.seal(plaintext.encode(), aad=aad(newsroom, kid))
    return {"version": 1, "newsroom": newsroom, "key_id": kid, "aead": aead, "enc": b64url_encode(enc),
            "ciphertext": b64url_encode(ciphertext)}


def open_envelope(key_file, envelope_file):
    with open(key_file) as f:
        key = json.load(f)
    with open(envelope_file) as f:
        envelope = json.load(f)
    suite = SUITES[envelope.get("aead", "chacha20-poly1305")]
    recipient = suite.create_recipient_context(
        b64url_decode(envelope["enc"]), suite.kem.deserialize_private_key(b64url_decode(key["private_key"])), info=INFO)
    return recipient.open(b64url_decode(envelope["ciphertext"]), aad=aad(envelope["newsroom"], envelope["key_id"]))


if __name__ == "__main__":
    command = sys.argv[1:2]
    if command == ["seal"] and len(sys.argv) in (5, 6):
        print(json.dumps(seal(*sys.argv[2:])))
    elif command == ["open"] and len(sys.argv) == 4:
        sys.stdout.buffer.write(open_envelope(sys.argv[2], sys.argv[3]))
    elif command == ["key-id"] and len(sys.argv) == 3:
        print(key_id(b64url_decode(sys.argv[2])))
    else:
        print(__doc__.strip(), file=sys.stderr)
        sys.exit(2)
