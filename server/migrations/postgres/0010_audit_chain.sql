-- The audit trail is append-only (issue 10): no row is ever deleted or
-- truncated, and a row changes once only, when it is sealed — its
-- `chain_hash` set, chaining it to the row before (see src/audit_chain.rs);
-- nothing else of it changes. Enforced for every role but a superuser
-- disabling the trigger, which the hash chain then shows.
ALTER TABLE audit_events ADD COLUMN chain_hash TEXT;

CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.chain_hash IS NULL AND NEW.chain_hash IS NOT NULL
        AND (NEW.id, NEW.at, NEW.account_id, NEW.device_id, NEW.action, NEW.patient_id,
             NEW.record_id, NEW.detail, NEW.client_addr, NEW.operator)
        IS NOT DISTINCT FROM
            (OLD.id, OLD.at, OLD.account_id, OLD.device_id, OLD.action, OLD.patient_id,
             OLD.record_id, OLD.detail, OLD.client_addr, OLD.operator)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
