"""The lock files (requirements/*.txt) are what CI and the image install: they must pin every
dependency pyproject.toml declares, at a version its range allows, and this environment must
be the locked one (a test run on other versions would prove nothing about the locked set)."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)", re.M)


def _locked(name: str) -> dict[str, str]:
    text = (ROOT / "requirements" / name).read_text(encoding="utf-8")
    return {canonicalize_name(pkg): version for pkg, version in PIN.findall(text)}


def _declared(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(line) for line in lines]


@pytest.mark.parametrize(
    ("lock", "extras"), [("runtime.txt", [None]), ("dev.txt", [None, "dev"])], ids=str
)
def test_every_declared_dependency_is_locked_within_its_range(
    lock: str, extras: list[str | None]
) -> None:
    locked = _locked(lock)
    for extra in extras:
        for requirement in _declared(extra):
            name = canonicalize_name(requirement.name)
            assert name in locked, f"{requirement} is not in requirements/{lock}: run make lock"
            assert requirement.specifier.contains(locked[name], prereleases=True), (
                f"requirements/{lock} pins {name}=={locked[name]}, outside {requirement}"
            )


def test_this_environment_is_the_locked_one() -> None:
    mismatched = {
        name: (version, installed)
        for name, version in _locked("dev.txt").items()
        if (installed := _installed(name)) != version
    }
    assert mismatched == {}, "reinstall from requirements/dev.txt (make install)"


def _installed(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def test_the_lock_names_no_machine_specific_index() -> None:
    """A lock with this machine's local indexes in it would not install anywhere else."""
    for lock in (ROOT / "requirements").glob("*.txt"):
        text = lock.read_text(encoding="utf-8")
        assert "--extra-index-url" not in text
        assert "--find-links" not in text
        assert "file://" not in text
