-- Sessions end after a spell of inactivity as well as at their fixed end:
-- `last_seen_at` moves (at most once a minute) with every authenticated request.
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;
CREATE INDEX sessions_by_account ON sessions(account_id, device_id);

-- Where a request came from (the peer address, or the first hop of a trusted
-- proxy's X-Forwarded-For), so the audit says from where as well as who.
ALTER TABLE audit_events ADD COLUMN client_addr TEXT;
-- Who did an operator action (the OS user running the command, or --operator).
ALTER TABLE audit_events ADD COLUMN operator TEXT;

-- Written by every health check: "ready" means the database takes writes
-- (a full disk or a held lock answers 503, not "ok").
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at INTEGER NOT NULL
);
INSERT INTO heartbeat (id, at) VALUES (1, 0);
