-- Row-level security: the second wall behind the application's own scope checks (docs/adr/0007).
--
-- Every lease of a pooled connection carries who is asking, as session settings (PostgresContext):
-- tipwire.role (liaison, agency, coordinator, auditor, admin, or system for the pipeline's workers and
-- the command line), tipwire.newsroom and tipwire.agency. The policies below let each principal read only
-- its own rows; with no principal set, a query sees nothing. They bind the service's role; the schema
-- owner (migrations, operators) is exempt, as PostgreSQL exempts table owners.

CREATE FUNCTION tipwire_role() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT coalesce(nullif(current_setting('tipwire.role', true), ''), 'none') $$;
CREATE FUNCTION tipwire_newsroom() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('tipwire.newsroom', true), '') $$;
CREATE FUNCTION tipwire_agency() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('tipwire.agency', true), '') $$;
-- The pipeline and the coordinator see every finding, task, document and request (never an envelope).
CREATE FUNCTION tipwire_sees_all() RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT tipwire_role() IN ('system', 'coordinator') $$;

-- Lookups across tables, run as the owner: a policy that queried another table under its own policy
-- would recurse (findings → tasks → findings).
CREATE FUNCTION tipwire_finding_newsroom(finding uuid) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS
$$ SELECT newsroom_code FROM findings WHERE id = finding $$;
CREATE FUNCTION tipwire_agency_holds_finding(finding uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS
$$ SELECT EXISTS (SELECT 1 FROM tasks WHERE finding_id = finding AND agency_code = tipwire_agency()) $$;
CREATE FUNCTION tipwire_agency_holds_document(document uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS
$$ SELECT EXISTS (SELECT 1 FROM finding_documents fd JOIN tasks t ON t.finding_id = fd.finding_id
                  WHERE fd.document_id = document AND t.agency_code = tipwire_agency()) $$;
-- Which newsroom a sealed envelope belongs to, and nothing else of it: what an agency filing a disclosure
-- request needs to know of a handle it cannot read.
CREATE FUNCTION source_envelope_newsroom(source text) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS
$$ SELECT newsroom_code FROM source_envelopes WHERE handle = source $$;

CREATE POLICY findings_read ON findings FOR SELECT USING (
    tipwire_sees_all()
    OR (tipwire_role() = 'liaison' AND newsroom_code = tipwire_newsroom())
    OR (tipwire_role() = 'agency' AND tipwire_agency_holds_finding(id)));
CREATE POLICY tasks_read ON tasks FOR SELECT USING (
    tipwire_sees_all()
    OR (tipwire_role() = 'liaison' AND tipwire_finding_newsroom(finding_id) = tipwire_newsroom())
    OR (tipwire_role() = 'agency' AND agency_code = tipwire_agency()));
CREATE POLICY finding_documents_read ON finding_documents FOR SELECT USING (
    tipwire_sees_all()
    OR (tipwire_role() = 'liaison' AND tipwire_finding_newsroom(finding_id) = tipwire_newsroom())
    OR (tipwire_role() = 'agency' AND tipwire_agency_holds_finding(finding_id)));
CREATE POLICY documents_read ON documents FOR SELECT USING (
    tipwire_sees_all()
    OR (tipwire_role() = 'liaison' AND newsroom_code = tipwire_newsroom())
    OR (tipwire_role() = 'agency' AND tipwire_agency_holds_document(id)));
CREATE POLICY info_requests_read ON info_requests FOR SELECT USING (
    tipwire_sees_all()
    OR (tipwire_role() = 'liaison' AND newsroom_code = tipwire_newsroom())
    OR (tipwire_role() = 'agency' AND agency_code = tipwire_agency()));
CREATE POLICY source_envelopes_read ON source_envelopes FOR SELECT USING (
    tipwire_role() = 'system'
    OR (tipwire_role() = 'liaison' AND newsroom_code = tipwire_newsroom()));
CREATE POLICY disclosure_requests_read ON disclosure_requests FOR SELECT USING (
    tipwire_role() = 'system'
    OR (tipwire_role() = 'liaison' AND newsroom_code = tipwire_newsroom())
    OR (tipwire_role() = 'agency' AND agency_code = tipwire_agency()));
CREATE POLICY protection_cases_read ON protection_cases FOR SELECT USING (
    tipwire_sees_all()
    OR (tipwire_role() = 'liaison' AND newsroom_code = tipwire_newsroom())
    OR (tipwire_role() = 'agency' AND (protecting_agency_code = tipwire_agency()
                                       OR (opened_by_kind = 'agency' AND opened_by_code = tipwire_agency()))));

-- Writing needs a principal too; which rows a principal may change is the application's check (writes
-- run as system, see ADR 0007).
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['findings', 'tasks', 'finding_documents', 'documents', 'info_requests', 'source_envelopes',
                                'disclosure_requests', 'protection_cases'] LOOP
        EXECUTE format('CREATE POLICY %I ON %I FOR INSERT WITH CHECK (tipwire_role() <> ''none'')', name || '_insert', name);
        EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE USING (tipwire_role() <> ''none'')', name || '_update', name);
        EXECUTE format('CREATE POLICY %I ON %I FOR DELETE USING (tipwire_role() <> ''none'')', name || '_delete', name);
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', name);
    END LOOP;
END
$$;
