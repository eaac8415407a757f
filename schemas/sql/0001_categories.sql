-- Finding categories are data, not code (DESIGN §3): admins may add more.
CREATE TABLE categories (
    code text PRIMARY KEY CHECK (code ~ '^[a-z0-9-]+$' AND length(code) <= 63),
    name_vi text NOT NULL CHECK (length(name_vi) BETWEEN 1 AND 200),
    name_en text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO categories (code, name_vi, name_en) VALUES
    ('land', 'Đất đai', 'Land'),
    ('procurement', 'Đấu thầu, mua sắm công', 'Public procurement'),
    ('budget', 'Ngân sách', 'Budget'),
    ('personnel', 'Tổ chức cán bộ', 'Personnel'),
    ('health', 'Y tế', 'Health'),
    ('education', 'Giáo dục', 'Education'),
    ('construction', 'Xây dựng', 'Construction'),
    ('other', 'Khác', 'Other');
