-- Vietnam's working-day calendar as data (DESIGN §7): public holidays (compensatory days included)
-- and official swapped working days. The Ministry of Home Affairs publishes them each year; load new
-- years with `tipwire calendar import FILE.csv`.
CREATE TABLE holidays (
    day date PRIMARY KEY,
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200)
);

CREATE TABLE working_overrides (
    day date PRIMARY KEY,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 200)
);

INSERT INTO holidays (day, name) VALUES
    ('2025-01-01', 'Tết Dương lịch'),
    ('2025-01-25', 'Tết Nguyên đán'), ('2025-01-26', 'Tết Nguyên đán'), ('2025-01-27', 'Tết Nguyên đán (hoán đổi)'),
    ('2025-01-28', 'Tết Nguyên đán'), ('2025-01-29', 'Tết Nguyên đán'), ('2025-01-30', 'Tết Nguyên đán'),
    ('2025-01-31', 'Tết Nguyên đán'), ('2025-02-01', 'Tết Nguyên đán'), ('2025-02-02', 'Tết Nguyên đán'),
    ('2025-04-07', 'Giỗ Tổ Hùng Vương'),
    ('2025-04-30', 'Ngày Giải phóng miền Nam'), ('2025-05-01', 'Ngày Quốc tế Lao động'), ('2025-05-02', 'Nghỉ hoán đổi'),
    ('2025-08-30', 'Quốc khánh'), ('2025-08-31', 'Quốc khánh'), ('2025-09-01', 'Quốc khánh'), ('2025-09-02', 'Quốc khánh'),
    ('2026-01-01', 'Tết Dương lịch'),
    ('2026-02-14', 'Tết Nguyên đán'), ('2026-02-15', 'Tết Nguyên đán'), ('2026-02-16', 'Tết Nguyên đán'),
    ('2026-02-17', 'Tết Nguyên đán'), ('2026-02-18', 'Tết Nguyên đán'), ('2026-02-19', 'Tết Nguyên đán'),
    ('2026-02-20', 'Tết Nguyên đán'), ('2026-02-21', 'Tết Nguyên đán'), ('2026-02-22', 'Tết Nguyên đán'),
    ('2026-04-26', 'Giỗ Tổ Hùng Vương'), ('2026-04-27', 'Giỗ Tổ Hùng Vương (nghỉ bù)'),
    ('2026-04-30', 'Ngày Giải phóng miền Nam'), ('2026-05-01', 'Ngày Quốc tế Lao động'),
    ('2026-08-29', 'Quốc khánh'), ('2026-08-30', 'Quốc khánh'), ('2026-08-31', 'Quốc khánh (hoán đổi)'),
    ('2026-09-01', 'Quốc khánh'), ('2026-09-02', 'Quốc khánh'),
    -- 2027: provisional until the Ministry of Home Affairs publishes the year's schedule.
    ('2027-01-01', 'Tết Dương lịch'),
    ('2027-02-05', 'Tết Nguyên đán'), ('2027-02-06', 'Tết Nguyên đán'), ('2027-02-07', 'Tết Nguyên đán'),
    ('2027-02-08', 'Tết Nguyên đán'), ('2027-02-09', 'Tết Nguyên đán'), ('2027-02-10', 'Tết Nguyên đán'),
    ('2027-04-16', 'Giỗ Tổ Hùng Vương'),
    ('2027-04-30', 'Ngày Giải phóng miền Nam'), ('2027-05-01', 'Ngày Quốc tế Lao động'), ('2027-05-03', 'Ngày Quốc tế Lao động (nghỉ bù)'),
    ('2027-09-02', 'Quốc khánh'), ('2027-09-03', 'Quốc khánh');

INSERT INTO working_overrides (day, reason) VALUES
    ('2025-02-15', 'Làm bù cho thứ Hai 27/1/2025 (Tết)'),
    ('2025-04-26', 'Làm bù cho thứ Sáu 2/5/2025'),
    ('2026-08-22', 'Làm bù cho thứ Hai 31/8/2026 (Quốc khánh)');
