"""A pushed status's lock, decision and writes in one statement on PostgreSQL: the function hlht_status_push.

One statement can't lock the connector and then read its current status in one CTE: in READ COMMITTED a statement
that waited for the lock still reads the other tables as they were when it began. Each statement of a VOLATILE
PL/pgSQL function takes a fresh snapshot, so the read after the lock sees what the lock's previous holder committed.
The rules are those of apps.stations.decisions.status_verdict and may_be_in_history (the pulls' set-based path);
tests/stations/test_status_sql.py holds both to the same answer on every case. SQLite has no such function: the
service takes the Python path there.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION hlht_status_push(
    p_operator text, p_connector text, p_status integer, p_park integer, p_lock integer, p_time timestamptz,
    p_source text
) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    cid bigint;
    cur record;
    had boolean;
    same boolean;
BEGIN
    -- The connector row is the lock every writer of its status takes first (services._locked_connectors).
    SELECT id INTO cid FROM stations_connector
     WHERE operator_id = p_operator AND connector_id = p_connector FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'unknown';  -- not in the directory: the caller keeps it pending
    END IF;
    -- A new statement, a new snapshot: the current status as the lock's previous holder left it.
    SELECT status, park_status, lock_status, status_time INTO cur
      FROM stations_connectorstatus WHERE connector_id = cid;
    had := FOUND;
    IF had THEN
        same := (cur.status, cur.park_status, cur.lock_status) IS NOT DISTINCT FROM (p_status, p_park, p_lock);
        IF same AND p_time > cur.status_time THEN
            -- confirm: the current row learns the time; history records changes, not observations
            UPDATE stations_connectorstatus SET status_time = p_time, source = p_source, updated = now()
             WHERE connector_id = cid;
            RETURN 'confirm';
        END IF;
        IF same AND p_time = cur.status_time THEN
            RETURN 'duplicate';
        END IF;
        -- no newer than the current status: history may hold it already
        IF p_time <= cur.status_time AND EXISTS (
            SELECT 1 FROM stations_connectorstatushistory
             WHERE connector_id = cid AND status_time = p_time AND status = p_status
               AND park_status IS NOT DISTINCT FROM p_park AND lock_status IS NOT DISTINCT FROM p_lock
        ) THEN
            RETURN 'duplicate';
        END IF;
    END IF;
    INSERT INTO stations_connectorstatushistory
        (connector_id, status, park_status, lock_status, status_time, source, created, updated)
    VALUES (cid, p_status, p_park, p_lock, p_time, p_source, now(), now());
    IF had AND p_time < cur.status_time THEN
        RETURN 'history_only';  -- older than the current status: kept in history, never replaces it
    END IF;
    -- apply: at least as new as the current status (same time: the later arrival wins)
    INSERT INTO stations_connectorstatus AS s
        (connector_id, status, park_status, lock_status, status_time, source, created, updated)
    VALUES (cid, p_status, p_park, p_lock, p_time, p_source, now(), now())
    ON CONFLICT (connector_id) DO UPDATE SET status = EXCLUDED.status, park_status = EXCLUDED.park_status,
        lock_status = EXCLUDED.lock_status, status_time = EXCLUDED.status_time, source = EXCLUDED.source,
        updated = EXCLUDED.updated;
    RETURN 'apply';
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS hlht_status_push(text, text, integer, integer, integer, timestamptz, text);"


def _create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("stations", "0009_operator_index_from_unique")]

    operations = [migrations.RunPython(_create, _drop)]
