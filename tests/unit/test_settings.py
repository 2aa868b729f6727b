import pytest

from core.settings import SettingsError, load_settings


def test_defaults_run_embedded_without_configuration(tmp_path):
    s = load_settings({"HUIJIA_DATA_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'huijia.sqlite3'}" and not s.is_postgres
    assert s.redis_url is None


def test_every_bad_variable_is_named_at_once():
    with pytest.raises(SettingsError) as exc:
        load_settings({"DATABASE_URL": "mysql://x", "HUIJIA_TOKEN_TTL": "soon", "HUIJIA_PORT": "0",
                       "REDIS_URL": "http://x", "HUIJIA_LOG_LEVEL": "LOUD"})
    text = str(exc.value)
    for name in ("DATABASE_URL", "HUIJIA_TOKEN_TTL", "HUIJIA_PORT", "REDIS_URL", "HUIJIA_LOG_LEVEL"):
        assert name in text


def test_production_refuses_development_secrets_without_echoing_them():
    with pytest.raises(SettingsError) as exc:
        load_settings({"HUIJIA_ENV": "production", "DATABASE_URL": "postgresql://u@h/db", "HUIJIA_SECRET_KEY": "short"})
    assert "HUIJIA_SECRET_KEY" in str(exc.value) and "short" not in str(exc.value)
    assert "HUIJIA_PII_KEYS" in str(exc.value)


def test_index_keys_from_the_list_or_the_single_key():
    import base64

    from core.pii import Keyring

    one = base64.b64encode(bytes(range(100, 132))).decode()
    two = base64.b64encode(bytes(range(200, 232))).decode()
    legacy = load_settings({"HUIJIA_PII_INDEX_KEY": one})
    listed = load_settings({"HUIJIA_PII_INDEX_KEYS": f"i2:{two},i1:{one}"})
    a = Keyring.from_settings(legacy.pii_keys, legacy.pii_index_keys)
    b = Keyring.from_settings(listed.pii_keys, listed.pii_index_keys)
    assert a.index_key_ids == {"i1"} and b.active_index_key_id == "i2"
    assert a.blind_index("v", purpose="p", tenant_id=1) == b.blind_index("v", purpose="p", tenant_id=1, key_id="i1")
    with pytest.raises(SettingsError) as exc:
        load_settings({"HUIJIA_PII_INDEX_KEYS": f"i2:{two}", "HUIJIA_PII_INDEX_KEY": one, "HUIJIA_PORT": "0"})
    assert "not both" in str(exc.value) and "HUIJIA_PORT" in str(exc.value) and one not in str(exc.value)
    with pytest.raises(SettingsError) as exc:
        load_settings({"HUIJIA_PII_INDEX_KEYS": ""})
    assert "HUIJIA_PII_INDEX_KEYS: empty" in str(exc.value)
    with pytest.raises(SettingsError) as exc:
        load_settings({"HUIJIA_PII_INDEX_KEY": "not-a-key"})
    assert "HUIJIA_PII_INDEX_KEY" in str(exc.value)


def test_production_refuses_the_development_index_key_inside_a_list():
    import base64

    dev = base64.b64encode(b"huijia-dev-blind-index-key-32byt").decode()
    fresh = base64.b64encode(bytes(range(200, 232))).decode()
    with pytest.raises(SettingsError) as exc:
        load_settings({"HUIJIA_ENV": "production", "DATABASE_URL": "postgresql://u@h/db", "HUIJIA_SECRET_KEY": "s" * 40,
                       "HUIJIA_PII_KEYS": "k1:" + base64.b64encode(bytes(range(32))).decode(),
                       "HUIJIA_PII_INDEX_KEYS": f"i2:{fresh},i1:{dev}"})
    assert "development keys" in str(exc.value) and dev not in str(exc.value)


def test_retention_settings_are_validated_with_the_others():
    s = load_settings({})
    assert (s.import_retention_hours, s.export_retention_hours) == (72, 24)
    s = load_settings({"HUIJIA_IMPORT_RETENTION_HOURS": "168", "HUIJIA_EXPORT_RETENTION_HOURS": "1"})
    assert (s.import_retention_hours, s.export_retention_hours) == (168, 1)
    with pytest.raises(SettingsError) as exc:
        load_settings({"HUIJIA_IMPORT_RETENTION_HOURS": "0", "HUIJIA_EXPORT_RETENTION_HOURS": "a day"})
    text = str(exc.value)
    assert "HUIJIA_IMPORT_RETENTION_HOURS: must be >= 1" in text and "HUIJIA_EXPORT_RETENTION_HOURS: expected an integer" in text


def test_job_liveness_settings_keep_the_stale_threshold_above_two_heartbeats():
    s = load_settings({"HUIJIA_JOB_HEARTBEAT_SECONDS": "2", "HUIJIA_JOB_STALE_SECONDS": "10"})
    assert (s.job_heartbeat_seconds, s.job_stale_seconds) == (2, 10)
    assert (load_settings({}).job_heartbeat_seconds, load_settings({}).job_stale_seconds) == (5, 40)
    with pytest.raises(SettingsError) as exc:
        load_settings({"HUIJIA_JOB_HEARTBEAT_SECONDS": "10", "HUIJIA_JOB_STALE_SECONDS": "15"})
    assert "HUIJIA_JOB_STALE_SECONDS" in str(exc.value)
