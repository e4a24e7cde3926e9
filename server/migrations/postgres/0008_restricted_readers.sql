-- PostgreSQL twin of migrations/sqlite/0008.
-- Who may read a restricted record (issue 9): NULL for the whole care team,
-- else its professions between commas (",psychologist,general_practitioner,"),
-- so a pull filters in SQL and a restricted record never leaves for anyone else.
ALTER TABLE journal ADD COLUMN readers TEXT;
