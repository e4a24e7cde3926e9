-- Every editable kind shares the mutation lane (protocol 4): the history of
-- care-plan items becomes the history of every editable item.
ALTER TABLE care_plan_item_versions RENAME TO item_versions;

-- The envelope every append-lane record has, whatever its kind, as columns:
-- the device that made it, when (its own clock) and the record it amends.
-- `body` keeps the whole record as the domain's JSON. NULL for items.
ALTER TABLE journal ADD COLUMN device_id TEXT;
ALTER TABLE journal ADD COLUMN recorded_at BIGINT;
ALTER TABLE journal ADD COLUMN amends TEXT;
-- Records stored before these columns: filled from their body (a time that
-- does not fit stays NULL rather than stop the migration).
UPDATE journal SET device_id = body::jsonb->>'device_id',
    recorded_at = CASE WHEN body::jsonb->>'recorded_at' ~ '^-?[0-9]{1,18}$' THEN (body::jsonb->>'recorded_at')::bigint END,
    amends = body::jsonb->>'amends'
    WHERE kind <> 'care_plan_item';
CREATE INDEX journal_by_patient_kind ON journal(patient_id, kind, seq);
