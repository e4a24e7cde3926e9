-- Accounts, care teams, patients, sessions, the append lane's pain
-- assessments, and the audit trail. Times are milliseconds since the Unix
-- epoch, UTC. Ids are UUIDs as text, made on the device for records.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    profession    TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    -- Accounts are disabled, never deleted: audit rows point at them.
    disabled_at   INTEGER
);

CREATE TABLE sessions (
    -- SHA-256 of the cookie's token: a stolen database copy cannot sign anyone in.
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    device_id  TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at   INTEGER
);

CREATE TABLE patients (
    id          TEXT PRIMARY KEY,
    family_name TEXT NOT NULL,
    given_name  TEXT NOT NULL,
    birth_date  TEXT NOT NULL,
    town        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Who may see and act for a patient. A member leaves by `ended_at`, never by
-- deleting the row, so who could see what and when stays known.
CREATE TABLE care_team_members (
    patient_id TEXT NOT NULL REFERENCES patients(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    added_at   INTEGER NOT NULL,
    ended_at   INTEGER,
    PRIMARY KEY (patient_id, account_id)
);
CREATE INDEX care_team_members_by_account ON care_team_members(account_id, patient_id);

-- One row, moved by every write transaction of the sync lanes. Its row lock is
-- held until commit, so the sequence numbers it hands out are in commit order:
-- a pull that has seen number n has seen every number below n. (A bare
-- sequence does not give that on PostgreSQL.)
CREATE TABLE sync_clock (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO sync_clock (id, value) VALUES (1, 0);

CREATE TABLE pain_assessments (
    id               TEXT PRIMARY KEY,
    seq              INTEGER NOT NULL UNIQUE,
    patient_id       TEXT NOT NULL REFERENCES patients(id),
    author_id        TEXT NOT NULL REFERENCES accounts(id),
    device_id        TEXT NOT NULL,
    recorded_at      INTEGER NOT NULL,
    received_at      INTEGER NOT NULL,
    mode             TEXT NOT NULL,
    pain_now         INTEGER NOT NULL CHECK (pain_now BETWEEN 0 AND 10),
    pain_average_24h INTEGER NOT NULL CHECK (pain_average_24h BETWEEN 0 AND 10),
    pain_worst_24h   INTEGER NOT NULL CHECK (pain_worst_24h BETWEEN 0 AND 10),
    location         TEXT NOT NULL,
    note             TEXT NOT NULL,
    amends           TEXT REFERENCES pain_assessments(id)
);
CREATE INDEX pain_assessments_by_patient ON pain_assessments(patient_id, seq);

CREATE TABLE audit_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    account_id TEXT,
    device_id  TEXT,
    -- What was done: read_caseload, read_records, write_record, denied, sign_in…
    action     TEXT NOT NULL,
    patient_id TEXT,
    record_id  TEXT,
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_by_patient ON audit_events(patient_id, at);
