-- PostgreSQL twin of migrations/sqlite/0002 (BIGINT for the Any driver).
-- The mutation lane: care-plan items, their history, and each device's
-- place in its own sequence of mutations.

-- Current state of each item. `state` is the JSON of domain::care_plan::ItemState
-- (values, per-field stamps, conflicts); the merge rules run in Rust, the
-- same code on the server and on the devices. `seq` moves to the sync clock
-- at every change, so a pull sees the latest state once.
CREATE TABLE care_plan_items (
    id         TEXT PRIMARY KEY,
    patient_id TEXT NOT NULL REFERENCES patients(id),
    seq        BIGINT NOT NULL UNIQUE,
    version    BIGINT NOT NULL,
    state      TEXT NOT NULL
);
CREATE INDEX care_plan_items_by_patient ON care_plan_items(patient_id);

-- Every applied mutation: the whole history of every item. The unique index
-- is the exactly-once rule written in the database itself.
CREATE TABLE care_plan_item_versions (
    item_id     TEXT NOT NULL REFERENCES care_plan_items(id),
    version     BIGINT NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    device_id   TEXT NOT NULL,
    mutation_id BIGINT NOT NULL,
    applied_at  BIGINT NOT NULL,
    mutation    TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    PRIMARY KEY (item_id, version)
);
CREATE UNIQUE INDEX care_plan_item_versions_once
    ON care_plan_item_versions(account_id, device_id, mutation_id);

-- The last mutation applied per (account, device), moved in the same
-- transaction as the writes it covers.
CREATE TABLE device_mutations (
    account_id       TEXT NOT NULL REFERENCES accounts(id),
    device_id        TEXT NOT NULL,
    last_mutation_id BIGINT NOT NULL,
    PRIMARY KEY (account_id, device_id)
);
