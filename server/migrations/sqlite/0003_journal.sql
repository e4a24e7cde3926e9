-- One journal for everything a pull returns: append-lane records of every
-- kind and the latest state of every care-plan item. A pull is one query in
-- `seq` order over one table, so a page is one consistent view (records and
-- items of one push can no longer be seen half), and a new record kind needs
-- no table of its own: `body` is the domain's JSON, validated in Rust.
--
-- `version` is 0 for an immutable record and the item's version for an item;
-- the sync checksum is computed over (id, version).
CREATE TABLE journal (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    patient_id  TEXT NOT NULL REFERENCES patients(id),
    -- The author of a record (a retry by someone else is refused); NULL for items.
    author_id   TEXT REFERENCES accounts(id),
    seq         INTEGER NOT NULL UNIQUE,
    version     INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX journal_by_patient ON journal(patient_id, seq);

INSERT INTO journal (id, kind, patient_id, author_id, seq, version, received_at, body)
SELECT id, 'pain_assessment', patient_id, author_id, seq, 0, received_at,
       json_object('kind', 'pain_assessment', 'id', id, 'patient_id', patient_id,
                   'recorded_at', recorded_at, 'author_id', author_id, 'device_id', device_id,
                   'mode', mode, 'pain_now', pain_now, 'pain_average_24h', pain_average_24h,
                   'pain_worst_24h', pain_worst_24h, 'location', location, 'note', note,
                   'amends', amends)
FROM pain_assessments;

INSERT INTO journal (id, kind, patient_id, author_id, seq, version, received_at, body)
SELECT id, 'care_plan_item', patient_id, NULL, seq, version, 0, state
FROM care_plan_items;

-- The history now points at the journal (SQLite cannot change a foreign key
-- in place: the table is rebuilt, same rows).
CREATE TABLE care_plan_item_versions_new (
    item_id     TEXT NOT NULL REFERENCES journal(id),
    version     INTEGER NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    device_id   TEXT NOT NULL,
    mutation_id INTEGER NOT NULL,
    applied_at  INTEGER NOT NULL,
    mutation    TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    PRIMARY KEY (item_id, version)
);
INSERT INTO care_plan_item_versions_new SELECT * FROM care_plan_item_versions;
DROP TABLE care_plan_item_versions;
ALTER TABLE care_plan_item_versions_new RENAME TO care_plan_item_versions;
CREATE UNIQUE INDEX care_plan_item_versions_once
    ON care_plan_item_versions(account_id, device_id, mutation_id);

DROP TABLE care_plan_items;
DROP TABLE pain_assessments;

-- When a person joined (or rejoined) a patient's care team, as a number of
-- the sync clock: the patient's older entries come to their devices at that
-- position of the pull, whatever the device's cursor. 0: from the start.
ALTER TABLE care_team_members ADD COLUMN added_seq INTEGER NOT NULL DEFAULT 0;
