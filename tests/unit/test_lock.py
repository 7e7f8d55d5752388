"""The lock files (requirements/*.txt) are what CI and the image install: they must pin every
dependency pyproject.toml declares, at a version its range allows, and this environment must
be the locked one (a test run on other versions would prove nothing about the locked set)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
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


STAGE_EXTRAS = ("ingest", "enrich", "index", "api")
ALL_EXTRAS: list[str | None] = [None, *STAGE_EXTRAS, "postgres"]
# What each stage's image installs (make lock): the index and the API open PostgreSQL.
IMAGE_EXTRAS = {
    "ingest": ["ingest"],
    "enrich": ["enrich"],
    "index": ["index", "postgres"],
    "api": ["api", "postgres"],
}


@pytest.mark.parametrize(
    ("lock", "extras"),
    [
        ("all.txt", ALL_EXTRAS),
        ("dev.txt", [*ALL_EXTRAS, "dev"]),
        *((f"{stage}.txt", [None, *IMAGE_EXTRAS[stage]]) for stage in STAGE_EXTRAS),
    ],
    ids=str,
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


@pytest.mark.parametrize("stage", STAGE_EXTRAS)
def test_a_stage_lock_pins_the_same_versions_as_the_full_lock(stage: str) -> None:
    """One version of each package in every image, the tests and CI: a stage's lock is the
    full lock cut down, never a resolution of its own."""
    full = _locked("all.txt")
    assert {n: v for n, v in _locked(f"{stage}.txt").items() if full.get(n) != v} == {}


# What each stage's image runs: the worker's composition root and its tasks (or the API app).
STAGE_ENTRY_MODULES = {
    # The drop-folder watcher and the reconciler run on the ingest image.
    "ingest": (
        "newsflow.cli",
        "newsflow.worker",
        "services.ingest.tasks",
        "services.ingest.watch",
        "newsflow.reconcile",
    ),
    "enrich": ("newsflow.cli", "newsflow.worker", "services.enrich.tasks"),
    "index": ("newsflow.cli", "newsflow.worker", "services.index.tasks", "services.index.postgres"),
    "api": ("newsflow.cli", "services.api.app", "services.index.postgres"),
}
# What a stage imports only when the first document needs it, run after the imports.
_UKRAINIAN_LEMMAS = "from services.index.lemmas import ukrainian_lemma; ukrainian_lemma('Києві')"
LOADED_ON_FIRST_USE = {"index": _UKRAINIAN_LEMMAS, "api": _UKRAINIAN_LEMMAS}
# The enrich stage's model packages: an ingest, index or API image that needs them has lost
# the point of per-stage installs (hundreds of MB per worker).
MODEL_PACKAGES = {"natasha", "lingua-language-detector", "numpy", "scipy", "slovnet", "navec"}
MODEL_MODULES = {"natasha", "lingua", "numpy", "scipy", "slovnet", "navec", "pymorphy2", "yargy"}


# Runs in a fresh interpreter as if only the stage's locked packages were installed: a finder
# first on sys.meta_path refuses every module whose distribution the stage lock lacks, the way
# an absent package would. Libraries that import something only if present (redis-py and
# opentelemetry, numpy and charset_normalizer) carry on, as they would in the stage's image.
_AS_IF_INSTALLED = """
import importlib, json, sys
from importlib.metadata import packages_distributions
allowed, modules = set(json.loads(sys.argv[1])), json.loads(sys.argv[2])
owners = packages_distributions()
def canonical(name): return name.lower().replace("_", "-").replace(".", "-")
class Absent:
    def find_spec(self, name, path=None, target=None):
        dists = {canonical(d) for d in owners.get(name.split(".")[0], [])}
        if dists and "newsflow" not in dists and not dists & allowed:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, Absent())
for module in modules:
    importlib.import_module(module)
exec(sys.argv[3])
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("stage", STAGE_EXTRAS)
def test_a_stage_imports_with_only_its_locked_packages(stage: str) -> None:
    """What requirements/<stage>.txt installs is enough to import the stage's entry points,
    and no stage but enrich loads a model package: the stage's image would otherwise fail at
    start, or weigh what enrich weighs."""
    allowed = set(_locked(f"{stage}.txt"))
    modules = STAGE_ENTRY_MODULES[stage]
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _AS_IF_INSTALLED,
            json.dumps(sorted(allowed)),
            json.dumps(modules),
            LOADED_ON_FIRST_USE.get(stage, ""),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"requirements/{stage}.txt is not enough:\n{result.stderr}"
    loaded = {name.split(".")[0] for name in json.loads(result.stdout)}
    if stage != "enrich":
        assert loaded & MODEL_MODULES == set()
        assert set(_locked(f"{stage}.txt")) & MODEL_PACKAGES == set()


def test_the_lock_names_no_machine_specific_index() -> None:
    """A lock with this machine's local indexes in it would not install anywhere else."""
    for lock in (ROOT / "requirements").glob("*.txt"):
        text = lock.read_text(encoding="utf-8")
        assert "--extra-index-url" not in text
        assert "--find-links" not in text
        assert "file://" not in text
