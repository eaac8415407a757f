-- Conflict of interest: a rule that names a finding's own subject agency routes the finding to that
-- agency's supervising body and the City Inspectorate instead, and their tasks say why.
ALTER TABLE tasks DROP CONSTRAINT tasks_routed_by_check,
    ADD CONSTRAINT tasks_routed_by_check CHECK (routed_by IN ('rule', 'subject-supervisor', 'coordinator-queue', 'reassignment', 'transfer',
        'conflict-of-interest'));

-- Need-to-know: a document a newsroom gives in answer to one agency's request is given to that task
-- only. NULL marks the documents submitted with the finding, which every responsible agency receives.
ALTER TABLE finding_documents ADD COLUMN given_to_task uuid REFERENCES tasks (id);
-- Existing links that came from an answer become the asking task's (the cautious reading where the same
-- document was also submitted with the finding).
UPDATE finding_documents fd SET given_to_task = r.task_id
FROM info_requests r
WHERE r.finding_id = fd.finding_id AND r.direction = 'to-newsroom' AND fd.document_id = ANY (r.answer_document_ids);
-- The same document may be given to several tasks of one finding.
ALTER TABLE finding_documents DROP CONSTRAINT finding_documents_pkey;
CREATE UNIQUE INDEX finding_documents_once ON finding_documents (finding_id, document_id, given_to_task) NULLS NOT DISTINCT;
