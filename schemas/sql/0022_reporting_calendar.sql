-- Reporting periods (docs/analytics.md#periods): the day of the month before on which a reporting month
-- starts. Decree 09/2019/NĐ-CP on the reporting regime of state administrative agencies (Article 12)
-- closes monthly figures from the 15th of the previous month to the 14th, and quarters, half-years and
-- the year the same way; 1 gives calendar months. One row, changed with `tipwire calendar reporting`.
CREATE TABLE reporting_calendar (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    start_day int NOT NULL CHECK (start_day BETWEEN 1 AND 28),
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL CHECK (length(changed_by) BETWEEN 1 AND 300)
);
INSERT INTO reporting_calendar (start_day, changed_by) VALUES (15, 'migration 0022 (Decree 09/2019/NĐ-CP, Article 12)');
