-- A sealed envelope records its HPKE AEAD (docs/source-envelopes.md): ChaCha20-Poly1305 (0x0003), as
-- every envelope so far, or AES-128-GCM (0x0001), which a browser seals with WebCrypto alone.
ALTER TABLE source_envelopes
    ADD COLUMN aead text NOT NULL DEFAULT 'chacha20-poly1305' CHECK (aead IN ('chacha20-poly1305', 'aes-128-gcm'));
