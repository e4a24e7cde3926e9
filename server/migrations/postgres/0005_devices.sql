-- PostgreSQL twin of migrations/sqlite/0005 (BIGINT for the Any driver).
-- A device id is the server's word, not the client's. The first sign-in
-- with an id registers it with a secret only that browser holds (its hash
-- here); a later sign-in claiming the id must show the secret, or it is
-- given a new id. So the audit's "which device" is a device that proved it.
CREATE TABLE devices (
    id          TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
