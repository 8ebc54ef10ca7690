"""A message's token check and replay mark in one call on PostgreSQL: the function hlht_token_mark.

Every message the portal answers with a token runs this step (tokens.token_check_and_mark). As one statement with
two CTEs it was parsed and planned afresh on every message (planning alone 0.09 ms, the step's largest cost on the
database); a PL/pgSQL function keeps its statements' plans for the session, so each call costs the function's
execution. The token is checked first (with its operator's status: suspension ends every token at once) and the
envelope marked seen only for a valid token. SQLite has no such function: tokens.py runs two statements there.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION hlht_token_mark(
    p_digest text, p_operator text, p_now timestamptz, p_statuses text[],
    p_seen_operator text, p_timestamp text, p_seq text, p_sig text, p_received timestamptz
) RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM 1 FROM interconnect_accesstoken t JOIN operators_operator o ON o.operator_id = t.operator_id
     WHERE t.token_hash = p_digest AND t.operator_id = p_operator AND t.expires_at > p_now
       AND o.status = ANY (p_statuses);
    IF NOT FOUND THEN
        RETURN 'token';  -- unknown, expired, another operator's, or its operator may not connect
    END IF;
    INSERT INTO interconnect_seenenvelope (operator_id, "timestamp", seq, sig, received_at)
    VALUES (p_seen_operator, p_timestamp, p_seq, p_sig, p_received)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN 'first';
    END IF;
    RETURN 'replay';  -- (OperatorID, TimeStamp, Seq, Sig) seen before
END
$$;
"""

DROP = "DROP FUNCTION IF EXISTS hlht_token_mark(text, text, timestamptz, text[], text, text, text, text, timestamptz);"


def _create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("interconnect", "0008_pull_full_succeeded_at")]

    operations = [migrations.RunPython(_create, _drop)]
