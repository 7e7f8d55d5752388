"""`newsflow enrich PATH ... --json` is a public contract: its field names and the seeds' values.

Scripts parse this output, so the names are pinned here, and the seeds' known quirks are checked
through the real command: headers parsed, repeated paragraphs collapsed, trailers stripped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SEEDS

NEWSFLOW = str(Path(sys.executable).with_name("newsflow"))

CONTRACT = {
    "file", "id", "title", "body", "published", "header_rate", "language",
    "language_confidence", "duplicate_of", "warnings", "error",
    "money", "entities", "languages", "near_duplicate_of", "similarity", "cluster_id",
    "enrichers", "rates", "country", "countries",
}  # fmt: skip


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The seeds, an exact copy of seed 000, a binary file and a report dated only to the month,
    in this order."""
    folder = tmp_path_factory.mktemp("contract")
    copy = folder / "copy_of_000.txt"
    copy.write_bytes((SEEDS / "000_d695069b074354cf.txt").read_bytes())
    binary = folder / "binary.txt"
    binary.write_bytes(b"\x00\x01\x02" * 50)
    month = folder / "month_dated.txt"
    month.write_text(
        " date 2011-10 8680 BYR\nРубль подешевел\nНацбанк Беларуси отпустил курс рубля.\n",
        encoding="utf-8",
    )
    return [*sorted(SEEDS.glob("*.txt")), copy, binary, month]


@pytest.fixture(scope="module")
def records(inputs: list[Path]) -> dict[str, dict[str, Any]]:
    paths = inputs
    result = subprocess.run(
        [NEWSFLOW, "enrich", "--json", *map(str, paths)],
        env={**os.environ, "NEWSFLOW_LOG_LEVEL": "ERROR"},
        capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(path) for path in paths], "input order"
    # Seeds by their number ("000"), the other files by their stem ("binary").
    return {
        path.name[:3] if path.parent == SEEDS else path.stem: line
        for path, line in zip(paths, lines, strict=True)
    }


def test_every_record_carries_the_contract_fields(records: dict[str, dict[str, Any]]) -> None:
    """Renaming or dropping a field breaks every script that reads this output."""
    for record in records.values():
        assert record.keys() >= CONTRACT


def test_header_date_and_rate_come_from_the_header_line(
    records: dict[str, dict[str, Any]],
) -> None:
    """Seeds 000 and 002 start with ` date YYYY-MM-DD rate BYN`; the others have no header."""
    assert (records["000"]["published"], records["000"]["header_rate"]) == (
        "2025-10-11", {"value": 3.69, "currency": "BYN"},
    )  # fmt: skip
    assert (records["002"]["published"], records["002"]["header_rate"]) == (
        "2025-09-29", {"value": 3.64, "currency": "BYN"},
    )  # fmt: skip
    assert records["003"]["published"] is None
    assert records["003"]["header_rate"] is None


def test_a_date_known_only_to_the_month_is_written_as_a_month(
    records: dict[str, dict[str, Any]],
) -> None:
    """` date 2011-10 ...` must not come out as 2011-10-01, a day the source never gave."""
    assert records["month_dated"]["published"] == "2011-10"


def test_german_seed_has_each_paragraph_once(records: dict[str, dict[str, Any]]) -> None:
    """Seed 001 holds its text twice; the document must hold it once."""
    record = records["001"]
    assert record["language"] == "de"
    paragraphs = record["body"].split("\n\n")
    assert len(paragraphs) == len(set(paragraphs))
    # It has no headline: its first paragraph stays in the body, and gives the title.
    assert paragraphs[0].startswith("MINSK, 29. September (BelTA) - Nadeschda Lasarewitsch")
    assert paragraphs[1].startswith("Nadeschda Lasarewitsch betonte")


def test_a_file_without_a_headline_gets_its_first_sentence_as_title(
    records: dict[str, dict[str, Any]],
) -> None:
    """A title is at most one sentence of 200 characters: seed 003 begins with a one-sentence
    paragraph of 322 characters, seed 001 with a 408-character one."""
    assert records["003"]["title"].endswith('"Великий камень".')
    assert records["003"]["body"].startswith(records["003"]["title"])
    assert len(records["001"]["title"]) <= 200
    assert records["001"]["title"].endswith("…")
    assert records["001"]["body"].startswith(records["001"]["title"][:-1])


def test_subscribe_trailer_is_stripped(records: dict[str, dict[str, Any]]) -> None:
    """Seed 004 ends with «Подписывайтесь ...» / «Подписаться»: boilerplate, not news."""
    body = records["004"]["body"]
    assert "Подписаться" not in body
    assert "Подписывайтесь" not in body


def test_copy_in_the_same_run_is_a_duplicate_and_bad_input_has_an_error(
    records: dict[str, dict[str, Any]],
) -> None:
    """Within one run an exact copy names the earlier file's id; a rejected file says why."""
    assert records["copy_of_000"]["duplicate_of"] == records["000"]["id"]
    assert records["000"]["duplicate_of"] is None
    assert records["binary"]["error"] == "binary"
    assert records["binary"]["id"] is None


def test_without_json_each_file_is_a_readable_block_of_the_same_facts(
    inputs: list[Path], records: dict[str, dict[str, Any]]
) -> None:
    """A person runs `newsflow enrich FILE` to see what enrich makes of it: a block per file,
    in input order, stating what --json states (not a Python dict dump)."""
    result = subprocess.run(
        [NEWSFLOW, "enrich", *map(str, inputs)],
        env={**os.environ, "NEWSFLOW_LOG_LEVEL": "ERROR"},
        capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    blocks = result.stdout.rstrip("\n").split("\n\n")
    assert [block.splitlines()[0] for block in blocks] == [str(path) for path in inputs]
    by_name = dict(zip(records, blocks, strict=True))
    for name, block in by_name.items():
        assert "{" not in block.splitlines()[1], "a dict dump, not a block"
        record = records[name]
        if record["error"]:
            assert f"dead letter: {record['error']}" in block
            continue
        fields = {line[:14].strip(): line[14:] for line in block.splitlines()[1:]}
        assert fields["id"] == record["id"]
        assert fields["title"] == record["title"]
        assert fields["language"].startswith(f"{record['language']} (")
    assert "\n  header      published 2025-10-11, rate 3.69 BYN\n" in by_name["000"]
    assert f"duplicate of {records['000']['id']}" in by_name["copy_of_000"]
    assert "PER Надежда Лазаревич (per:ndsd-lsrvc)" in by_name["000"]
    assert "1 600 000 000 000 RUB «1,6 триллиона рублей»" in by_name["004"]
    assert "2 trailer_stripped" in by_name["004"]


def test_header_rate_is_a_rate_with_no_base(records: dict[str, dict[str, Any]]) -> None:
    """Seeds 000 and 002 quote «3.69 BYN» / «3.64 BYN» in their header: a rate whose base the
    header never says."""
    assert records["000"]["rates"] == [
        {
            "base": None,
            "quote": "BYN",
            "value": 3.69,
            "text": "3.69 BYN",
            "start": None,
            "end": None,
        }
    ]
    assert records["002"]["rates"] == [
        {
            "base": None,
            "quote": "BYN",
            "value": 3.64,
            "text": "3.64 BYN",
            "start": None,
            "end": None,
        }
    ]
    assert records["003"]["rates"] == records["004"]["rates"] == []


def test_seed_roubles_stay_russian_by_their_sentences(
    records: dict[str, dict[str, Any]],
) -> None:
    """Seeds 003 and 004 are about Belarus, but their roubles are Russia's: Yakutia's budget
    (the sentence before names Russia) and Russia's digital programme («России, где …»)."""
    money = {
        seed: [(m["amount"], m["currency"], m["currency_basis"]) for m in records[seed]["money"]]
        for seed in ("003", "004")
    }
    assert money == {
        "003": [(120e9, "RUB", "document")],
        "004": [(1.5e9, "USD", "explicit"), (2e9, "USD", "explicit"), (1.6e12, "RUB", "document")],
    }
    assert all("currency_note" in m for record in records.values() for m in record["money"])
    assert [records[seed]["country"] for seed in ("000", "001", "002")] == ["BY"] * 3
