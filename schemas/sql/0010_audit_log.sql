-- A tamper-evident audit log. Each row's hash is SHA-256 over the previous row's hash and the row's own
-- content (audit_log_content), so changing, removing or inserting any committed row breaks the chain from
-- there on; `tipwire audit verify` walks it and names the first row that breaks it, and `tipwire audit head`
-- prints the newest hash for publication out of band.
CREATE SEQUENCE audit_log_id_seq;

CREATE TABLE audit_log (
    id bigint PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 300),
    action text NOT NULL CHECK (action ~ '^[a-z]+(\.[a-z_]+)+$'),
    object text NOT NULL CHECK (length(object) BETWEEN 1 AND 300),
    detail jsonb NOT NULL DEFAULT '{}',
    prev_hash bytea NOT NULL,
    hash bytea NOT NULL
);
ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_object ON audit_log (object, id);

-- The bytes a row's hash covers: its fields, one per line, the time in microseconds since 1970.
CREATE FUNCTION audit_log_content(id bigint, at timestamptz, actor text, action text, object text, detail jsonb) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT convert_to(
        id::text || E'\n' || (extract(epoch FROM at) * 1000000)::bigint::text || E'\n' || actor || E'\n' || action || E'\n'
        || object || E'\n' || detail::text, 'UTF8')
$$;

-- Chains each new row to the newest one. The transaction-scoped lock makes writers take turns until they
-- commit, so ids, and the chain, follow commit order; the id is drawn only once the lock is held.
CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    previous bytea;
BEGIN
    PERFORM pg_advisory_xact_lock(1953980780, hashtext(current_schema()));
    NEW.id := nextval('audit_log_id_seq');
    SELECT hash INTO previous FROM audit_log ORDER BY id DESC LIMIT 1;
    NEW.prev_hash := coalesce(previous, decode(repeat('00', 32), 'hex'));
    NEW.hash := sha256(NEW.prev_hash || audit_log_content(NEW.id, NEW.at, NEW.actor, NEW.action, NEW.object, NEW.detail));
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- Append-only: no UPDATE, DELETE or TRUNCATE, whoever asks.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
