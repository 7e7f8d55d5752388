"""Settings: defaults that work out of the box, and bad values that stop a process at start."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.settings import DEFAULT_LANGUAGES, Settings

NEWSFLOW = str(Path(sys.executable).with_name("newsflow"))


def test_defaults_need_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The quick start runs with nothing set: every default must be valid."""
    for name in ("NEWSFLOW_REDIS_URL", "NEWSFLOW_INDEX_URL", "NEWSFLOW_LANGUAGES"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.max_file_bytes == 10 * 1024 * 1024
    assert tuple(settings.languages) == DEFAULT_LANGUAGES
    assert settings.index_url == "./newsflow.db"


def test_languages_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Operators write NEWSFLOW_LANGUAGES=ru,de,en, not JSON."""
    monkeypatch.setenv("NEWSFLOW_LANGUAGES", "RU, de,en")
    assert Settings(_env_file=None).languages == ["ru", "de", "en"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NEWSFLOW_LANGUAGES", "ru,xx"),
        ("NEWSFLOW_LANGUAGES", "ru"),
        ("NEWSFLOW_LANGUAGE_FULL_MODELS", "ru,xx"),
        ("NEWSFLOW_MAX_FILE_BYTES", "0"),
        ("NEWSFLOW_MAX_FILE_BYTES", "ten"),
        ("NEWSFLOW_REDIS_URL", "http://localhost:6379"),
        ("NEWSFLOW_INDEX_URL", "mysql://db/newsflow"),
        ("NEWSFLOW_INDEX_URL", "http://db/newsflow"),
        ("NEWSFLOW_LOG_LEVEL", "LOUD"),
        ("NEWSFLOW_METRICS_PORT", "70000"),
        ("NEWSFLOW_LANGUAGE_MIN_CONFIDENCE", "1.5"),
    ],
)
def test_invalid_values_are_rejected(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    """A bad value must fail validation, not surface later at the first message."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def test_a_bad_value_stops_the_command_with_a_clear_message(tmp_path: Path) -> None:
    """The process exits 2 at start and names the variable, so operators can fix it at once."""
    result = subprocess.run(
        [NEWSFLOW, "run", "seeds"],
        env={
            "PATH": "/usr/bin:/bin",
            "NEWSFLOW_MAX_FILE_BYTES": "-5",
            "NEWSFLOW_INDEX_URL": str(tmp_path / "x.db"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "NEWSFLOW_MAX_FILE_BYTES" in result.stderr
    assert "Traceback" not in result.stderr


ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"
ASSIGNMENT = re.compile(r"^(?P<commented># )?(?P<name>NEWSFLOW_[A-Z0-9_]+)=(?P<value>.*)$")


def test_every_setting_is_in_the_env_example_with_its_default_and_a_comment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """.env.example is where operators learn the settings, and what compose passes on when it
    is copied to .env: each one must be there, set to its default (or, for a setting unset by
    default, commented out with no value), under a comment that says what it is for."""
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    assigned: dict[str, str] = {}
    unset: set[str] = set()
    for number, line in enumerate(lines):
        found = ASSIGNMENT.match(line)
        if found is None:
            continue
        if found["commented"]:
            if not found["value"]:
                unset.add(found["name"])
            continue  # an example of another value, not a default
        assigned[found["name"]] = found["value"]
        above = next(text for text in reversed(lines[:number]) if not ASSIGNMENT.match(text))
        assert above.startswith("#"), f"{found['name']} has no comment above it"
    for name, field in Settings.model_fields.items():
        variable = f"NEWSFLOW_{name.upper()}"
        if field.default is None and field.default_factory is None:
            assert variable in assigned or variable in unset, variable
        else:
            assert variable in assigned, f"{variable} is not in .env.example"
    for name in list(os.environ):
        if name.startswith("NEWSFLOW_"):
            monkeypatch.delenv(name)
    from_example = Settings(_env_file=ENV_EXAMPLE)
    assert from_example.model_dump() == Settings(_env_file=None).model_dump()


def test_soft_time_limits_must_be_below_the_hard_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_ENRICH_SOFT_TIME_LIMIT", "90")
    monkeypatch.setenv("NEWSFLOW_ENRICH_TIME_LIMIT", "60")
    with pytest.raises(ValidationError, match="NEWSFLOW_ENRICH_SOFT_TIME_LIMIT"):
        Settings(_env_file=None)


def test_the_visibility_timeout_is_derived_from_the_limits_and_a_smaller_one_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A message a live worker holds (waiting for a child, running, waiting for its retry)
    must never be handed to a second worker; a killed worker's must come back in minutes."""
    settings = Settings(_env_file=None)
    assert settings.visibility_timeout is None
    assert settings.effective_visibility_timeout == 2 * 90 + 8 + 60
    monkeypatch.setenv("NEWSFLOW_VISIBILITY_TIMEOUT", "100")
    with pytest.raises(ValidationError, match="NEWSFLOW_VISIBILITY_TIMEOUT"):
        Settings(_env_file=None)


def test_the_languages_settings_accept_are_the_ones_lingua_detects() -> None:
    """Settings validate NEWSFLOW_LANGUAGES without importing lingua (the ingest and index
    workers never load it); the written-out list must stay lingua's."""
    from lingua import IsoCode639_1

    from shared.settings import DETECTABLE_LANGUAGES

    lingua_codes = {name.lower() for name in dir(IsoCode639_1) if name.isupper() and len(name) == 2}
    assert lingua_codes == DETECTABLE_LANGUAGES


def test_the_ingest_and_index_workers_load_no_language_or_ner_models() -> None:
    """A fresh interpreter importing a worker's task module (and the worker's composition root)
    must not pull in the enrich stage's model packages: memory per worker decides how many fit."""
    heavy = ("natasha", "lingua", "numpy", "scipy", "slovnet", "pymorphy2", "navec", "yargy")
    for module in ("services.ingest.tasks", "services.index.tasks", "newsflow.worker"):
        code = (
            f"import sys, importlib; importlib.import_module({module!r}); "
            f"print(sorted(set({heavy!r}) & set(sys.modules)))"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
        )
        assert result.stdout.strip() == "[]", (module, result.stdout)
