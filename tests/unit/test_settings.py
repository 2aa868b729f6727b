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
