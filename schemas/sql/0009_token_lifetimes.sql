-- Tokens name the officer who holds them, expire, record when they were last used, and can be rotated.
ALTER TABLE api_tokens
    ADD COLUMN holder text NOT NULL DEFAULT '' CHECK (length(holder) <= 100),
    ADD COLUMN expires_at timestamptz,
    ADD COLUMN last_used_at timestamptz,
    ADD COLUMN rotated_from uuid REFERENCES api_tokens (id);
-- Tokens made before expiry existed get the default lifetime from now, so nothing breaks at once.
UPDATE api_tokens SET expires_at = now() + interval '90 days' WHERE expires_at IS NULL;
ALTER TABLE api_tokens ALTER COLUMN expires_at SET NOT NULL;
