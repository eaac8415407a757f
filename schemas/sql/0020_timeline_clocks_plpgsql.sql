-- The fold of started or moved clocks into timelines runs after every relay round and engine pass. As a
-- SQL function it was parsed and planned again on every call; in PL/pgSQL its two statements keep their
-- plans for the session.
CREATE OR REPLACE FUNCTION task_timelines_clocks(clocks bigint[]) RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
    UPDATE task_timelines tl SET acknowledge_clock = c.id, acknowledge_due_at = c.due_at
    FROM (SELECT DISTINCT ON (task_id) task_id, id, due_at FROM deadlines WHERE id = ANY(clocks) AND stage = 'acknowledge' ORDER BY task_id, id) c
    WHERE tl.task_id = c.task_id AND (tl.acknowledge_clock IS NULL OR tl.acknowledge_clock = c.id);
    UPDATE task_timelines tl SET resolve_clock = c.id, resolve_due_at = c.due_at
    FROM (SELECT DISTINCT ON (task_id) task_id, id, due_at FROM deadlines WHERE id = ANY(clocks) AND stage = 'resolve' ORDER BY task_id, id) c
    WHERE tl.task_id = c.task_id AND (tl.resolve_clock IS NULL OR tl.resolve_clock = c.id);
END $$;
