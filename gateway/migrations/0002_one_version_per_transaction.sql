-- One version (and one notification) per transaction instead of per statement: an upsert
-- (INSERT ... ON CONFLICT DO UPDATE fires both the INSERT and the UPDATE statement triggers),
-- or an import of many rows statement by statement, changes the configuration once, so other
-- nodes reload once.

ALTER TABLE config_version ADD COLUMN txid bigint;

CREATE OR REPLACE FUNCTION gateway_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    -- A concurrent writer waits for this row, then sees our txid and bumps again for its own.
    UPDATE config_version SET version = version + 1, txid = txid_current()
     WHERE id = 1 AND txid IS DISTINCT FROM txid_current()
    RETURNING version INTO v;
    IF FOUND THEN
        PERFORM pg_notify('gateway_config', v::text);
    END IF;
    RETURN NULL;
END;
$$;
