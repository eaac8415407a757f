-- Newsroom source keys and sealed source envelopes (docs/source-envelopes.md).
--
-- A newsroom registers X25519 public keys; the newest is current and the ones it replaced stay listed
-- (retired), so envelopes sealed to them can still be opened by whoever kept those private keys. The
-- server never holds a private key.
CREATE TABLE source_keys (
    newsroom_code text NOT NULL REFERENCES newsrooms (code),
    key_id text NOT NULL CHECK (key_id ~ '^[0-9a-f]{16}$'),
    public_key bytea NOT NULL UNIQUE CHECK (length(public_key) = 32),
    registered_at timestamptz NOT NULL DEFAULT now(),
    registered_by text NOT NULL,
    retired_at timestamptz,
    PRIMARY KEY (newsroom_code, key_id)
);
CREATE UNIQUE INDEX source_keys_one_current ON source_keys (newsroom_code) WHERE retired_at IS NULL;

-- Envelopes live apart from findings, under a random handle; only their newsroom reads them back.
CREATE TABLE source_envelopes (
    handle text PRIMARY KEY CHECK (handle ~ '^src_[A-Za-z0-9_-]{32}$'),
    newsroom_code text NOT NULL,
    key_id text NOT NULL,
    enc bytea NOT NULL CHECK (length(enc) = 32),
    ciphertext bytea NOT NULL CHECK (length(ciphertext) BETWEEN 16 AND 65552),
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (newsroom_code, key_id) REFERENCES source_keys (newsroom_code, key_id)
);

ALTER TABLE findings ADD COLUMN source_handle text UNIQUE REFERENCES source_envelopes (handle);
