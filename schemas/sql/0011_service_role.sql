-- The service connects as a role of its own, not as the owner that runs these migrations. What that role
-- may do is granted here, in one place: read and write the working tables, read the migration record, and
-- only read and append to the audit log, so PostgreSQL itself refuses the service any UPDATE, DELETE or
-- TRUNCATE there (the append-only triggers stay as a wall for the owner). `tipwire migrate --service-role`
-- and `tipwire serve --migrate-database-url` call it after every migration run, so tables added later are
-- granted too. Granting to the owner itself does nothing: an owner keeps every right on its tables.
CREATE FUNCTION grant_service_role(service name) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    here name := current_schema();
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = service) THEN
        RAISE EXCEPTION 'no role "%": create it first (CREATE ROLE % LOGIN)', service, service USING ERRCODE = 'undefined_object';
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', here, service);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', here, service);
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO %I', here, service);
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON %I.audit_log FROM %I', here, service);
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON %I.schema_migrations FROM %I', here, service);
END
$$;
