"""Settings are read in one place and validated as they are read: one clear line, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from tracker.settings import ConfigError, Settings, env_name

BAD = [
    ("TRACKER_LOG_LEVEL", "LOUD", "must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("TRACKER_CONCURRENCY", "0", "must be at least 1"),
    ("TRACKER_CONCURRENCY", "two", "must be an integer"),
    ("TRACKER_DOWNLOAD_DELAY", "-1", "must be at least 0"),
    ("TRACKER_DOWNLOAD_DELAY", "inf", "must be a finite number"),
    ("TRACKER_DOWNLOAD_TIMEOUT", "-5", "must be greater than 0"),
    ("TRACKER_DOWNLOAD_TIMEOUT", "0", "must be greater than 0"),
    ("TRACKER_CRAWL_TIMEOUT", "-1", "must be greater than 0"),
    ("TRACKER_RETRY_TIMES", "-1", "must be at least 0"),
    ("TRACKER_RETRY_TIMES", "1.5", "must be an integer"),
    ("TRACKER_MAX_RESPONSE_SIZE", "0", "must be at least 1"),
    ("TRACKER_HTTP_CACHE", "maybe", "must be a boolean"),
    ("TRACKER_FRESHNESS_HOURS", "soon", "must be a number"),
    ("TRACKER_LEADER_POLL_SECONDS", "0", "must be greater than 0"),
    ("TRACKER_DELIVERY_MAX_ATTEMPTS", "0", "must be at least 1"),
    ("TRACKER_DISAPPEARANCE_CONFIRM_HOURS", "-24", "must be greater than 0"),
    ("TRACKER_RETRY_AFTER_MAX", "nan", "must be a finite number"),
    ("TRACKER_MAX_REQUEST_BODY", "-1", "must be at least 1"),
    ("TRACKER_LOG_FORMAT", "xml", "must be one of json, text"),
    ("TRACKER_UNTC_BASE_URL", "ftp://example.org", "must be an http(s) URL"),
    ("TRACKER_PUBLIC_URL", "alerts.example.org", "must be an http(s) URL"),
    ("TRACKER_PUBLIC_URL", "https://bücher.example", "must be an ASCII URL without spaces"),
    ("TRACKER_PUBLIC_URL", "https://alerts.example/a b", "must be an ASCII URL without spaces"),
    ("TRACKER_SMTP_URL", "mail.example:25", "must be a smtp://"),
    ("TRACKER_WEBHOOK_ALLOWLIST", "10.0.0.0/8,10.0.0.0/33", "'10.0.0.0/33' is not one"),
]


@pytest.mark.parametrize(("name", "value", "says"), BAD, ids=[f"{n}={v}" for n, v, _ in BAD])
def test_a_bad_value_is_refused_with_its_name_and_value(name, value, says):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({name: value})
    line = str(refused.value)
    assert "\n" not in line
    assert line.startswith(name + " ") and says in line, line
    assert repr(value) in line


def test_several_bad_values_are_all_named_on_one_line():
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"TRACKER_CONCURRENCY": "0", "TRACKER_LOG_LEVEL": "LOUD"})
    line = str(refused.value)
    assert "\n" not in line and "TRACKER_CONCURRENCY" in line and "TRACKER_LOG_LEVEL" in line


def test_defaults_and_the_sqlite_file_in_the_data_dir():
    settings = Settings.from_env({})
    assert settings.data_dir == Path("data")
    assert settings.database_url == "sqlite:///data/tracker.sqlite3"
    assert settings.concurrent_requests_per_domain == 1 and settings.http_cache is True
    moved = Settings.from_env({"TRACKER_DATA_DIR": "/srv/tracker"})
    assert moved.database_url == "sqlite:////srv/tracker/tracker.sqlite3"
    assert moved.spool_dir == Path("/srv/tracker/spool")


def test_empty_values_mean_the_default_and_values_are_normalized():
    settings = Settings.from_env(
        {
            "TRACKER_CONCURRENCY": "",
            "TRACKER_LOG_LEVEL": "debug",
            "TRACKER_LOG_FORMAT": " TEXT ",
            "TRACKER_HTTP_CACHE": "no",
            "TRACKER_UNTC_BASE_URL": "http://127.0.0.1:8080/",
            "TRACKER_WEBHOOK_ALLOWLIST": " 10.0.0.1, ::1 ",
            "TRACKER_ADMIN_TOKEN": "",
        }
    )
    assert settings.concurrent_requests_per_domain == 1
    assert (settings.log_level, settings.log_format) == ("DEBUG", "text")
    assert settings.http_cache is False
    assert settings.untc_base_url == "http://127.0.0.1:8080"
    assert settings.webhook_allowlist == ("10.0.0.1/32", "::1/128")
    assert settings.admin_token is None


def test_to_env_round_trips_every_setting():
    settings = Settings.from_env(
        {
            "TRACKER_DATA_DIR": "/tmp/t",
            "TRACKER_DOWNLOAD_DELAY": "0.25",
            "TRACKER_DOWNLOAD_TIMEOUT": "1.5",
            "TRACKER_CONCURRENCY": "4",
            "TRACKER_HTTP_CACHE": "0",
            "TRACKER_WEBHOOK_ALLOWLIST": "127.0.0.0/8",
            "TRACKER_SMTP_URL": "smtp://u:p@127.0.0.1:2525",
            "TRACKER_SECRET_KEY": "k",
        }
    )
    env = settings.to_env()
    assert set(env) == {env_name(f) for f in Settings.model_fields} - {
        "TRACKER_LOG_FORMAT",  # unset (None) values are left out
        "TRACKER_ADMIN_TOKEN",
    }
    assert Settings.from_env(env) == settings


def test_building_settings_in_code_reads_no_environment(monkeypatch):
    monkeypatch.setenv("TRACKER_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("TRACKER_CONCURRENCY", "0")  # would be refused if it were read
    built = Settings(Path("d"), "sqlite://")
    assert built.log_level == "INFO" and built.concurrent_requests_per_domain == 1
    monkeypatch.delenv("TRACKER_CONCURRENCY")
    assert Settings.from_env().log_level == "DEBUG"  # the process environment, by default


def test_replace_validates_like_the_environment():
    settings = Settings(Path("d"), "sqlite://")
    assert settings.replace(download_delay=0).download_delay == 0
    with pytest.raises(ConfigError, match="TRACKER_CONCURRENCY must be at least 1"):
        settings.replace(concurrent_requests_per_domain=0)
    with pytest.raises(ValidationError, match="frozen"):  # passed down, never changed in place
        settings.log_level = "DEBUG"  # type: ignore[misc]


@pytest.mark.slow  # a `tracker` subprocess each
@pytest.mark.parametrize(
    ("name", "value"),
    [("TRACKER_LOG_LEVEL", "LOUD"), ("TRACKER_CONCURRENCY", "0"), ("TRACKER_DOWNLOAD_DELAY", "-1")],
)
@pytest.mark.parametrize("command", [["treaties"], ["run", "--port", "0"]])
def test_the_cli_prints_one_line_and_exits_2(tmp_path, name, value, command):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update({"TRACKER_DATA_DIR": str(tmp_path), name: value})
    done = subprocess.run(
        [sys.executable, "-m", "tracker.cli", *command],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"tracker: configuration: {name} ") and repr(value) in done.stderr
    assert not (tmp_path / "tracker.sqlite3").exists()  # refused before any work
