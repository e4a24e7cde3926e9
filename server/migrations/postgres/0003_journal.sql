-- PostgreSQL twin of migrations/sqlite/0003 (BIGINT for the Any driver).
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
    seq         BIGINT NOT NULL UNIQUE,
    version     BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX journal_by_patient ON journal(patient_id, seq);

INSERT INTO journal (id, kind, patient_id, author_id, seq, version, received_at, body)
SELECT id, 'pain_assessment', patient_id, author_id, seq, 0, received_at,
       json_build_object('kind', 'pain_assessment', 'id', id, 'patient_id', patient_id,
                   'recorded_at', recorded_at, 'author_id', author_id, 'device_id', device_id,
                   'mode', mode, 'pain_now', pain_now, 'pain_average_24h', pain_average_24h,
                   'pain_worst_24h', pain_worst_24h, 'location', location, 'note', note,
                   'amends', amends)::text
FROM pain_assessments;

INSERT INTO journal (id, kind, patient_id, author_id, seq, version, received_at, body)
SELECT id, 'care_plan_item', patient_id, NULL, seq, version, 0, state
FROM care_plan_items;

-- The history now points at the journal.
ALTER TABLE care_plan_item_versions DROP CONSTRAINT care_plan_item_versions_item_id_fkey;
ALTER TABLE care_plan_item_versions
    ADD CONSTRAINT care_plan_item_versions_item_id_fkey FOREIGN KEY (item_id) REFERENCES journal(id);

DROP TABLE care_plan_items;
DROP TABLE pain_assessments;

-- When a person joined (or rejoined) a patient's care team, as a number of
-- the sync clock: the patient's older entries come to their devices at that
-- position of the pull, whatever the device's cursor. 0: from the start.
ALTER TABLE care_team_members ADD COLUMN added_seq BIGINT NOT NULL DEFAULT 0;
