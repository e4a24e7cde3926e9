-- A patient's own account (issue 8): an account that speaks for one
-- patient, made only through an invitation. `profession` is 'patient' for
-- such an account (it is no profession: no care team lists it).
ALTER TABLE accounts ADD COLUMN patient_id TEXT REFERENCES patients(id);
CREATE UNIQUE INDEX accounts_one_per_patient ON accounts(patient_id) WHERE patient_id IS NOT NULL;

-- A one-time code a care-team member gives the patient. Only the code's
-- SHA-256 is kept. Used, revoked or expired, the row stays: who invited
-- whom, and when, is part of the file.
CREATE TABLE invitations (
    id         TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients(id),
    code_hash  TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL REFERENCES accounts(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    -- The account it opened (or gave a new password).
    account_id TEXT REFERENCES accounts(id),
    revoked_at INTEGER,
    revoked_by TEXT REFERENCES accounts(id)
);
CREATE INDEX invitations_by_patient ON invitations(patient_id, created_at);
