import Foundation
import TipwireCore

/// The pages' one script, served from `/assets/seal.js` with its SHA-256 in every page that loads it
/// (subresource integrity) and published in docs/source-envelopes.md. Pages work without it.
public enum Scripts {
    public static let sealPath = "/assets/seal.js"

    /// `sha256-…`, the value of the `integrity` attribute that loads `seal`.
    public static let sealIntegrity = "sha256-" + Data(Digest.sha256(Array(seal.utf8))).base64EncodedString()

    /// Seals a source's details in the page, to the newsroom's current key, before the form is sent: the
    /// details never leave the page; the envelope goes in the form instead. HPKE (RFC 9180) base mode,
    /// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, from WebCrypto's X25519, HMAC-SHA256 and
    /// AES-GCM only. `window.tipwireHPKE` is there for the RFC's test vectors (deploy/local/story-check).
    public static let seal = #"""
        // tipwire: seals a source's details in this page (docs/source-envelopes.md). The details never
        // leave it: the form sends the envelope. HPKE (RFC 9180) base mode, DHKEM(X25519, HKDF-SHA256),
        // HKDF-SHA256, AES-128-GCM, built from WebCrypto's X25519, HMAC-SHA256 and AES-GCM alone.
        (() => {
          "use strict";
          const subtle = crypto.subtle;
          const utf8 = (text) => new TextEncoder().encode(text);
          const empty = new Uint8Array(0);
          const concat = (...parts) => {
            const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
            let at = 0;
            for (const part of parts) { out.set(part, at); at += part.length; }
            return out;
          };
          const i2osp = (value, width) => {
            const out = new Uint8Array(width);
            for (let i = width - 1; i >= 0; i--) { out[i] = value & 0xff; value >>>= 8; }
            return out;
          };
          const b64url = (bytes) => btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""))
            .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
          const fromB64url = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

          const KEM = concat(utf8("KEM"), i2osp(0x0020, 2));
          const SUITE = concat(utf8("HPKE"), i2osp(0x0020, 2), i2osp(0x0001, 2), i2osp(0x0001, 2));

          // HMAC pads its key with zeros to the block size, so HKDF's empty salt is 32 zero bytes
          // (RFC 5869 §2.2); WebCrypto takes no empty HMAC key.
          async function hmac(key, data) {
            const k = await subtle.importKey("raw", key.length ? key : new Uint8Array(32), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
            return new Uint8Array(await subtle.sign("HMAC", k, data));
          }
          const labeledExtract = (suite, salt, label, ikm) => hmac(salt, concat(utf8("HPKE-v1"), suite, utf8(label), ikm));
          // HKDF-Expand of at most 32 bytes is its first block.
          async function labeledExpand(suite, prk, label, info, length) {
            const block = await hmac(prk, concat(i2osp(length, 2), utf8("HPKE-v1"), suite, utf8(label), info, Uint8Array.of(1)));
            return block.slice(0, length);
          }

          // SetupBaseS (RFC 9180 §5.1.1): `ephemeral` is a fresh X25519 key pair unless given (the vectors).
          async function setupSender(publicKey, info, ephemeral) {
            ephemeral = ephemeral || await subtle.generateKey({ name: "X25519" }, true, ["deriveBits"]);
            const recipient = await subtle.importKey("raw", publicKey, { name: "X25519" }, false, []);
            const dh = new Uint8Array(await subtle.deriveBits({ name: "X25519", public: recipient }, ephemeral.privateKey, 256));
            const enc = new Uint8Array(await subtle.exportKey("raw", ephemeral.publicKey));
            const prk = await labeledExtract(KEM, empty, "eae_prk", dh);
            const shared = await labeledExpand(KEM, prk, "shared_secret", concat(enc, publicKey), 32);
            const context = concat(Uint8Array.of(0), await labeledExtract(SUITE, empty, "psk_id_hash", empty),
              await labeledExtract(SUITE, empty, "info_hash", info));
            const secret = await labeledExtract(SUITE, shared, "secret", empty);
            const keyBytes = await labeledExpand(SUITE, secret, "key", context, 16);
            const baseNonce = await labeledExpand(SUITE, secret, "base_nonce", context, 12);
            const key = await subtle.importKey("raw", keyBytes, { name: "AES-GCM" }, false, ["encrypt"]);
            let sequence = 0;
            return {
              enc, key: keyBytes, baseNonce, sharedSecret: shared,
              async seal(aad, plaintext) {
                const nonce = baseNonce.slice();
                for (let i = 0, s = sequence; s > 0; i++, s = Math.floor(s / 256)) nonce[11 - i] ^= s % 256;
                sequence += 1;
                return new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 }, key, plaintext));
              },
            };
          }

          async function sealEnvelope(newsroom, keyID, publicKey, text) {
            const sender = await setupSender(fromB64url(publicKey), utf8("tipwire source envelope v1"));
            const ciphertext = await sender.seal(utf8(`tipwire-source-envelope/v1/${newsroom}/${keyID}`), utf8(text));
            return { version: 1, newsroom, key_id: keyID, aead: "aes-128-gcm", enc: b64url(sender.enc), ciphertext: b64url(ciphertext) };
          }

          window.tipwireHPKE = { setupSender, sealEnvelope };

          function attach(box) {
            const form = box.closest("form");
            const details = box.querySelector("textarea");
            const envelope = box.querySelector("input[type=hidden]");
            const failure = box.querySelector(".seal-failed");
            if (!form || !details || !envelope || !subtle) return;
            box.hidden = false;
            form.addEventListener("submit", async (event) => {
              if (!details.value) return;
              event.preventDefault();
              try {
                envelope.value = JSON.stringify(await sealEnvelope(box.dataset.newsroom, box.dataset.keyId, box.dataset.publicKey, details.value));
                details.value = "";
                form.submit();
              } catch (error) {
                envelope.value = "";
                if (failure) failure.hidden = false;
              }
            });
          }
          document.addEventListener("DOMContentLoaded", () => document.querySelectorAll("fieldset.sealing").forEach(attach));
        })();

        """#
}
