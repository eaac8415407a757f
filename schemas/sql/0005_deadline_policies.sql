-- Deadline policies (DESIGN §7): how long each stage of a duty may take, per category (NULL: the default
-- for every category without its own), in wall-clock hours, calendar days or working days, with the
-- reminder point and the escalation ladder's step. Defaults follow Vietnamese law; an admin changes them.
CREATE TABLE deadline_policies (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category_code text REFERENCES categories (code),
    stage text NOT NULL CHECK (stage IN ('deliver', 'acknowledge', 'resolve', 'extension', 'newsroom_answer', 'agency_answer')),
    amount int NOT NULL CHECK (amount > 0),
    unit text NOT NULL CHECK (unit IN ('hours', 'days', 'working_days')),
    -- For resolve: how many extensions the policy allows.
    max_extensions int NOT NULL DEFAULT 0 CHECK (max_extensions >= 0),
    reminder_percent int NOT NULL DEFAULT 80 CHECK (reminder_percent BETWEEN 1 AND 99),
    ladder_step_working_days int NOT NULL DEFAULT 2 CHECK (ladder_step_working_days > 0),
    legal_basis text NOT NULL DEFAULT '' CHECK (length(legal_basis) <= 500),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX deadline_policies_one_per_stage ON deadline_policies (coalesce(category_code, '*'), stage);

INSERT INTO deadline_policies (category_code, stage, amount, unit, max_extensions, legal_basis) VALUES
    (NULL, 'deliver', 1, 'hours', 0, 'Pipeline health: a task reaches its agency within the hour'),
    (NULL, 'acknowledge', 7, 'working_days', 0, 'Law on Denunciations 2018 Art. 24 (10 working days when checks are needed in several places)'),
    (NULL, 'resolve', 30, 'days', 2, 'Law on Denunciations 2018 Art. 30: 30 days from acceptance; extended once, twice for especially complex cases'),
    (NULL, 'extension', 30, 'days', 0, 'Law on Denunciations 2018 Art. 30: each extension up to 30 days'),
    (NULL, 'newsroom_answer', 5, 'working_days', 0, 'The press''s duty to cooperate (Plan 31/KH-UBND)'),
    (NULL, 'agency_answer', 10, 'days', 0, 'Law on Anti-Corruption 2018 Art. 14');
