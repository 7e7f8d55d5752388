"""The README's shell examples, run as written, so the front door cannot rot.

Every ```sh block of the README runs, command by command, in order, in a copy of the project
(so ``make run`` writes its ``./newsflow.db`` there), with this test's Redis database and a
stack the test starts the way the README does: the three workers and ``newsflow serve``, all in
that copy. A command must exit 0, and ``curl`` must get a 2xx (it runs with ``--fail-with-body``).

A block that cannot run here says so in an HTML comment on the line before it, which the reader
of the rendered README does not see:

* ``<!-- readme-test: skip: WHY -->``: not run (needs Docker, runs until stopped, ...);
* ``<!-- readme-test: except "PREFIX": WHY -->``: its commands starting with PREFIX are not run;
* ``<!-- readme-test: settings -->``: ``NAME=value`` lines, each block validated by the
  settings class as a process would read it.

What the reader fills in, the test fills in: ``localhost:8000`` is the API this test started,
``$NEWSFLOW_API_TOKEN`` its token, ``RECEIPT`` a file dead-lettered for the purpose (a dead
letter is what the dlq examples need), ``DOCUMENT_ID`` a stored document's id, and ``new.txt``,
``a.txt``, ``b.txt`` are new files in the working folder.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from shared.deadletters import DeadLetterStore
from shared.settings import Settings
from shared.stages import STAGES
from tests.conftest import ROOT
from tests.integration.conftest import NEWSFLOW, Pipeline, stop_pipeline
from tests.support import free_port

pytestmark = pytest.mark.integration

BLOCK = re.compile(r"(?:<!-- readme-test: (?P<marker>[^\n]*?) -->\n)?```sh\n(?P<body>.*?)```", re.S)
EXCEPT = re.compile(r'except "(?P<prefix>[^"]+)": .+')
TOKEN = "readme-" + uuid.uuid4().hex
# Before each command: a failing curl fails the command (as written, curl exits 0 on a 404).
PRELUDE = 'set -e; curl() { command curl --silent --show-error --fail-with-body "$@"; }\n'
COPY_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "__pycache__", "*.db", "*.db-*", ".env", "drop", ".*_cache"
)


@dataclass
class Block:
    line: int
    marker: str | None
    body: str

    def commands(self) -> list[str]:
        """One entry per command: continuation lines joined, blank and comment lines out."""
        joined = self.body.replace("\\\n", " ")
        return [c for c in joined.splitlines() if c.strip() and not c.lstrip().startswith("#")]


def readme_blocks() -> list[Block]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [
        Block(text.count("\n", 0, found.start("body")), found["marker"], found["body"])
        for found in BLOCK.finditer(text)
    ]


def test_every_shell_block_is_run_or_says_why_not() -> None:
    """A new block runs unless its marker says otherwise; a marker the runner does not know
    is a mistake, not a skip."""
    blocks = readme_blocks()
    assert len(blocks) >= 10
    for block in blocks:
        marker = block.marker
        assert marker is None or (
            marker == "settings"
            or (marker.startswith("skip: ") and len(marker) > 10)
            or EXCEPT.fullmatch(marker)
        ), f"README line {block.line}: unknown marker {marker!r}"
    run = [b for b in blocks if b.marker is None or EXCEPT.fullmatch(b.marker or "")]
    assert sum(len(b.commands()) for b in run) >= 25


@pytest.mark.parametrize(
    "block",
    [b for b in readme_blocks() if b.marker == "settings"],
    ids=lambda block: f"line {block.line}",
)
def test_settings_examples_are_accepted(block: Block, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's example settings (TLS, Sentinel, several hosts) are values newsflow takes."""
    for name in [name for name in os.environ if name.startswith("NEWSFLOW_")]:
        monkeypatch.delenv(name)
    given = {}
    for command in block.commands():
        name, value = shlex.split(command, comments=True)[0].split("=", 1)
        given[name] = value
        monkeypatch.setenv(name, value)
    assert given
    settings = Settings(_env_file=None)
    for name in given:
        assert getattr(settings, name.removeprefix("NEWSFLOW_").lower()) is not None, name


@dataclass
class Reader:
    """The reader's machine: a copy of the project with the stack running in it."""

    workdir: Path
    env: dict[str, str]
    api: str
    redis_url: str
    receipt: str | None = None
    document_id: str | None = None

    def newsflow(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [NEWSFLOW, *args],
            cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=120,
            check=False,
        )  # fmt: skip

    def dead_lettered_receipt(self) -> str:
        """A file submitted and dead-lettered (binary), for RECEIPT."""
        if self.receipt is None:
            bad = self.workdir / "not-text.bin"
            bad.write_bytes(b"\x00\x01\x02" * 100)
            result = self.newsflow("submit", "--wait", "--json", str(bad))
            assert result.returncode == 1, result.stderr  # 1: dead-lettered, as expected
            self.receipt = json.loads(result.stdout.splitlines()[0])["receipt"]
        return self.receipt

    def wait_for_letter(self, receipt: str) -> None:
        """A replay takes the letter out until ingest dead-letters the file again: wait for it
        to be back before a command that needs it."""
        settings = Settings(_env_file=None, redis_url=self.redis_url)
        store = DeadLetterStore.for_settings(redis.Redis.from_url(self.redis_url), settings)
        deadline = time.monotonic() + 30
        while store.find(receipt) is None:
            assert time.monotonic() < deadline, f"no dead letter {receipt}"
            time.sleep(0.1)

    def stored_document_id(self) -> str:
        if self.document_id is None:
            result = self.newsflow("search", "технопарков", "--json")
            assert result.returncode == 0, result.stderr
            self.document_id = str(json.loads(result.stdout)["hits"][0]["id"])
        return self.document_id

    def fill_in(self, command: str) -> str:
        if "RECEIPT" in command:
            receipt = self.dead_lettered_receipt()
            if "dlq " in command or "dead-letters" in command:
                self.wait_for_letter(receipt)
            command = re.sub(r"\bRECEIPT\b", receipt, command)
        if "DOCUMENT_ID" in command:
            command = re.sub(r"\bDOCUMENT_ID\b", self.stored_document_id(), command)
        return command.replace("localhost:8000", self.api)


@pytest.fixture(scope="module")
def reader(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reader]:
    workdir = tmp_path_factory.mktemp("readme") / "newsflow"
    shutil.copytree(ROOT, workdir, ignore=COPY_IGNORE)  # copy2: mtimes kept, so make
    (workdir / ".venv").symlink_to(ROOT / ".venv")  # sees .venv up to date
    for name in ("new.txt", "a.txt", "b.txt"):
        (workdir / name).write_text(
            f"A file of the reader's own {uuid.uuid4().hex}\n\n"
            "The reading room of the city library opened on Monday with four hundred seats.\n",
            encoding="utf-8",
        )
    redis.Redis.from_url(redis_url).flushdb()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(
        NEWSFLOW_REDIS_URL=redis_url,
        NEWSFLOW_API_TOKEN=TOKEN,
        NEWSFLOW_LOG_LEVEL="INFO",  # the workers' "ready." line is what the stack waits for
        NEWSFLOW_LOG_FORMAT="json",
    )
    port = free_port()
    stack = Pipeline(
        env=env,
        index_path=workdir / "newsflow.db",
        workdir=workdir,
        logs={name: workdir / f"{name}.log" for name in (*STAGES, "api")},
    )
    try:
        for stage in STAGES:
            stack.launch(stage, [NEWSFLOW, "worker", stage, "--concurrency", "1"], env)
        stack.wait_ready()  # the workers
        stack.launch("api", [NEWSFLOW, "serve", "--port", str(port)], env)
        _wait_for_api(f"http://127.0.0.1:{port}/healthz")
        yield Reader(workdir, env, f"127.0.0.1:{port}", redis_url)
    finally:
        stop_pipeline(stack)


def _wait_for_api(url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):  # noqa: S310  # our own localhost
                return
        except OSError:
            assert time.monotonic() < deadline, f"the API at {url} did not start"
            time.sleep(0.2)


# Some forty commands, three of which load the language and NER models: longer than the
# suite's per-test limit on a loaded machine, though each command has its own timeout.
@pytest.mark.timeout(900)
def test_every_shell_example_of_the_readme_works_as_written(reader: Reader) -> None:
    ran = []
    for block in readme_blocks():
        if block.marker is not None and not EXCEPT.fullmatch(block.marker):
            continue
        excluded = EXCEPT.fullmatch(block.marker or "")
        for written in block.commands():
            if excluded and written.startswith(excluded["prefix"]):
                continue
            command = reader.fill_in(written)
            result = subprocess.run(
                ["bash", "-c", PRELUDE + command],
                cwd=reader.workdir, env=reader.env, capture_output=True, text=True,
                timeout=300, check=False,
            )  # fmt: skip
            assert result.returncode == 0, (
                f"README line {block.line}: {written}\n"
                f"exit {result.returncode}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
            )
            ran.append(written)
    assert len(ran) >= 25
