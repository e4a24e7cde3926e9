-- Failed sign-ins counted per account name and per address (issue 10), so a
-- password cannot be guessed by trying: after a few failures, sign-in for
-- that name (or from that address) waits a growing delay. In the database,
-- not in memory, so it holds across restarts and across server instances.
CREATE TABLE sign_in_failures (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL
);
