-- The audit trail is append-only (issue 10): no row is ever deleted, and a
-- row changes once only, when it is sealed — its `chain_hash` set, chaining
-- it to the row before (see src/audit_chain.rs); nothing else of it changes.
ALTER TABLE audit_events ADD COLUMN chain_hash TEXT;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

CREATE TRIGGER audit_events_seal_only BEFORE UPDATE ON audit_events
WHEN OLD.chain_hash IS NOT NULL OR NEW.chain_hash IS NULL
    OR NEW.id IS NOT OLD.id OR NEW.at IS NOT OLD.at
    OR NEW.account_id IS NOT OLD.account_id OR NEW.device_id IS NOT OLD.device_id
    OR NEW.action IS NOT OLD.action OR NEW.patient_id IS NOT OLD.patient_id
    OR NEW.record_id IS NOT OLD.record_id OR NEW.detail IS NOT OLD.detail
    OR NEW.client_addr IS NOT OLD.client_addr OR NEW.operator IS NOT OLD.operator
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
