"""What keeps the enrich worker's memory small and shared: the compact string tables must
answer exactly as the dicts they replace (hash collisions and all), the process-memory
calls (``shared.process_memory``) must work on this glibc and Linux system, and the word caches
(``shared.caches``) must stay within their caps."""

from __future__ import annotations

import mmap
import random
from pathlib import Path

import pytest
import wordfreq

from services.enrich.entities import commonness
from services.enrich.entities.gazetteer import _key_char
from services.enrich.entities.keys import vowel_key
from services.enrich.entities.models import load_models
from services.enrich.entities.morphology import Vocab
from services.enrich.entities.persons import first_names
from services.enrich.entities.string_table import StringList, StringTable
from shared import caches
from shared.names import name_key
from shared.process_memory import page_out_file, release_free_memory, return_large_blocks


class _Colliding(str):
    """A string whose hash is the same as every other's: forces the table's collision path."""

    __slots__ = ()

    def __hash__(self) -> int:
        return 7


def _random_words(rng: random.Random, count: int) -> list[str]:
    letters = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіўєїґabcdefghijklmnopqrstuvwxyzß-'"
    return ["".join(rng.choices(letters, k=rng.randint(1, 12))) for _ in range(count)]


def test_table_answers_as_a_dict_built_from_the_same_pairs() -> None:
    rng = random.Random(12)
    words = _random_words(rng, 5000)  # short random words: some repeat
    expected = {word: position for position, word in enumerate(words)}
    table = StringTable.of_list(words)
    probes = [*words, *_random_words(rng, 2000), "", "\ud800", "мир\x00"]
    assert len(table) == len(expected)
    assert [table.get(word) for word in probes] == [expected.get(word) for word in probes]
    assert table.get_many(probes, -1).tolist() == [expected.get(word, -1) for word in probes]
    assert all(word in table for word in words)


def test_strings_sharing_a_hash_are_told_apart_by_their_bytes() -> None:
    words = [_Colliding(word) for word in ("минск", "Минск", "minsk", "a", "ab")]
    table = StringTable((word, value) for value, word in enumerate(words, start=10))
    assert [table.get(word) for word in words] == [10, 11, 12, 13, 14]
    assert table.get(_Colliding("b")) is None
    probes = [_Colliding("ab"), _Colliding("b"), _Colliding("минск")]
    assert table.get_many(probes, -1).tolist() == [14, -1, 10]


def test_empty_table_and_empty_queries() -> None:
    table = StringTable([])
    assert len(table) == 0
    assert table.get("x", 5) == 5
    assert table.get_many(["x", "y"], -1).tolist() == [-1, -1]
    assert StringTable.of_list(["x"]).get_many([], -1).tolist() == []


def test_values_must_fit_in_32_bits() -> None:
    with pytest.raises(ValueError, match="32 bits"):
        StringTable([("big", 2**40)])


def test_table_is_a_few_bytes_a_string() -> None:
    words = [f"слово{i}" for i in range(100_000)]
    table = StringTable.of_list(words)
    assert table.nbytes < 64 * len(words)  # a dict of str and int takes ~120


def test_glibc_memory_calls_are_available_here() -> None:
    """The worker image is Debian's glibc: were these silently no-ops, the enrich worker's
    memory would grow back by ~45 MB a child without any test noticing."""
    assert return_large_blocks()
    assert release_free_memory()


@pytest.mark.parametrize("language", ["de", "en", "ru", "uk"])
def test_commonness_gives_wordfreqs_own_frequency_for_every_word(language: str) -> None:
    """The word lists in string tables must read exactly as wordfreq's dicts, which the Zipf
    thresholds of ``merge`` and ``persons`` were set on."""
    expected = wordfreq.get_frequency_dict(language, wordlist="small")
    lists = commonness._frequencies(language)
    words = [*expected, "zzqxjv", "щщщщъ"]
    assert [lists.get(word) for word in words] == [expected.get(word, 0.0) for word in words]


def test_string_list_gives_back_each_string() -> None:
    strings = ["Минск", "", "Berlin", "\ud800", "Київ"]
    listed = StringList(strings)
    assert len(listed) == len(strings)
    assert [listed[i] for i in range(len(listed))] == strings
    with pytest.raises(IndexError):
        listed[len(strings)]


def test_gazetteer_key_characters_keep_the_keys_order_and_skip_surrogates() -> None:
    """A name's path is a string of one character per token: the characters must sort as the
    token indexes do, and never be a lone surrogate (which a str cannot be encoded with)."""
    indexes = [0, 1, 0xD7FF, 0xD800, 0xD801, 0xF000, 150_000]
    chars = [_key_char(i) for i in indexes]
    assert chars == sorted(chars)
    assert all(not 0xD800 <= ord(char) <= 0xDFFF for char in chars)
    assert len(set(chars)) == len(chars)


def test_page_out_file_hands_back_a_read_only_mapping_which_stays_readable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 4096)
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        assert sum(mapped[1::4096]) == len(mapped) // 4096  # every page read once
        assert page_out_file(str(path)) == len(mapped)
        assert mapped[:256] == bytes(range(256))  # read again from the file
    assert page_out_file(str(tmp_path / "not-mapped")) == 0


# ---------------------------------------------------------------------------------------------
# Word caches (shared/caches.py): bounded, and filled by documents' words only


def test_a_full_word_cache_starts_again_rather_than_growing_or_freezing() -> None:
    cache: dict[str, int] = {}
    for number in range(10):
        caches.remember(cache, f"w{number}", number, 4)
        assert len(cache) <= 4
    # The latest word is in it: a cache that stopped taking words once full would not have it.
    assert cache["w9"] == 9


def test_the_gazetteer_and_the_tagger_keep_their_token_caches_within_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    models = load_models()
    monkeypatch.setattr(caches, "TOKENS", 3)
    gazetteer, tagger = models.gazetteer, models.russian.ner
    words = [f"Слово{number}" for number in range(10)]
    try:
        for word in words:
            gazetteer._canon(word)
            tagger._token_key(word)
            assert len(gazetteer._token_cache) <= 3
            assert len(tagger._key_cache) <= 3
        assert words[-1] in gazetteer._token_cache
        assert words[-1] in tagger._key_cache
    finally:
        gazetteer._token_cache.clear()
        tagger._key_cache.clear()


def test_loading_the_first_names_leaves_the_name_caches_to_documents() -> None:
    first_names.cache_clear()
    name_key.cache_clear()
    vowel_key.cache_clear()
    names = first_names()
    assert names.skeletons
    # 13 000 first names keyed through the caches would fill them before any document.
    assert name_key.cache_info().currsize == 0
    assert vowel_key.cache_info().currsize == 0


def test_the_declension_reads_words_through_the_bounded_parse_cache() -> None:
    vocab = load_models().russian.vocab
    Vocab.parse.cache_clear()
    readings = vocab("минску")
    assert readings
    assert Vocab.parse.cache_info().maxsize == caches.PARSES
    # Natasha's own class-level cache (10 000 words) must not be the one called.
    assert Vocab.parse.cache_info().currsize == 1
