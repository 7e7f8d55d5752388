"""Case forms of the curated organisation names, generated, not typed.

``data/organisations.toml`` lists nominative names; news inflects them («Беларуськалия»,
«МАЗу», «Національного банку України», «der Europäischen Zentralbank»). The gazetteer's
declension classes (``declension``) already find most forms by their endings; this module
generates the forms and keeps only those the classes miss, in ``data/organisation_forms.toml``,
which ``sources`` adds to the gazetteer with the nominative as the normal form:

* Russian and Ukrainian: pymorphy3 with its OpenCorpora (ru) and LanguageTool/VESUM (uk)
  dictionaries. The head noun of a name (its first noun) and the adjectives before it are put
  in every case; the rest (a genitive complement, a quoted name) stays as it is. A word the
  dictionary does not know declines like the longest known noun it ends with («Беларуськалий»
  like «калий»), which is how compound company names decline;
* Belarusian and German: rules (Belarusian case endings by the word's ending; German adjective
  endings -e/-en/-er/-es/-em, since «Internationaler Währungsfonds» becomes «des
  Internationalen Währungsfonds»);
* English: none (the possessive is a separate token).

The generator (``python -m services.enrich.entities.org_forms``) runs at build time only:
pymorphy3 and the Ukrainian dictionary are development dependencies, and nothing here is
imported by the workers. A unit test regenerates the file and compares.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from services.enrich.entities.gazetteer import Entry, GazetteerBuilder
from services.enrich.entities.keys import has_cyrillic

SOURCE_FILE = "organisations.toml"
FORMS_FILE = "organisation_forms.toml"
LANGUAGES = ("ru", "be", "uk", "de", "en")
CASES = ("gent", "datv", "accs", "ablt", "loct")
_QUOTES = '«»"“”„'
MIN_SUFFIX = 3

Inflector = Callable[[str], list[str]]


def _restore_case(original: str, form: str) -> str:
    """The form with the original's capitals where the two share letters («МАЗ» + «маза» ->
    «МАЗа», «ПриватБанк» + «приватбанку» -> «ПриватБанку»)."""
    return "".join(
        char.upper() if i < len(original) and original[i].isupper() else char
        for i, char in enumerate(form)
    )


class _Pymorphy:
    """Nouns and adjectives of one language put in every case with pymorphy3."""

    def __init__(self, language: str) -> None:
        import pymorphy3  # noqa: PLC0415  (build time only)

        if language == "uk":
            import pymorphy3_dicts_uk  # type: ignore[import-untyped]  # noqa: PLC0415  (build time)

            self.morph = pymorphy3.MorphAnalyzer(path=pymorphy3_dicts_uk.get_path(), lang="uk")
        else:
            self.morph = pymorphy3.MorphAnalyzer(lang="ru")

    def noun(self, word: str) -> Any | None:
        """The nominative singular noun reading of a word, known words first; for a word the
        dictionary does not know, the reading of the longest known noun it ends with."""
        lower = word.lower()
        readings = [
            p for p in self.morph.parse(lower)
            if {"NOUN", "nomn"} <= p.tag.grammemes and "plur" not in p.tag.grammemes
        ]  # fmt: skip
        known = [p for p in readings if p.is_known]
        if known:
            return sorted(known, key=lambda p: "anim" in p.tag.grammemes)[0]
        for cut in range(1, len(lower) - MIN_SUFFIX + 1):
            tail = [
                p for p in self.morph.parse(lower[cut:])
                if p.is_known and {"NOUN", "nomn"} <= p.tag.grammemes
                and "plur" not in p.tag.grammemes and "Fixd" not in p.tag.grammemes
            ]  # fmt: skip
            if tail:
                return _Prefixed(lower[:cut], tail[0])
        return readings[0] if readings else None

    def is_adjective(self, word: str) -> bool:
        """Whether the likeliest reading of a word is an adjective («Мозырский»)."""
        readings = self.morph.parse(word.lower())
        return bool(readings) and "ADJF" in readings[0].tag.grammemes

    def declines(self, acronym: str) -> bool:
        """Whether an acronym is read as a word that declines («МАЗ» -> «МАЗа»), not letter by
        letter («МВФ»): the dictionary's guess for it is a noun that is not indeclinable."""
        reading = self.noun(acronym)
        return reading is not None and "Fixd" not in reading.tag.grammemes

    def adjective(self, word: str, gender: str | None) -> Any | None:
        readings = [
            p for p in self.morph.parse(word.lower())
            if {"ADJF", "nomn"} <= p.tag.grammemes and "plur" not in p.tag.grammemes
            and (gender is None or gender in p.tag.grammemes)
        ]  # fmt: skip
        return readings[0] if readings else None


class _Prefixed:
    """A noun reading of a known word, with the part of the compound before it kept."""

    def __init__(self, prefix: str, parse: Any) -> None:
        self.prefix = prefix
        self.parse = parse
        self.tag = parse.tag

    def inflect(self, grammemes: set[str]) -> _Word | None:
        form = self.parse.inflect(grammemes)
        return None if form is None else _Word(self.prefix + form.word)


class _Word:
    def __init__(self, word: str) -> None:
        self.word = word


def _slavic_forms(morph: _Pymorphy, name: str) -> list[str]:
    tokens = name.split(" ")
    head = None
    for i, token in enumerate(tokens):
        if any(q in token for q in _QUOTES):
            break
        if morph.is_adjective(token):
            continue
        reading = morph.noun(token)
        if reading is not None:
            head = (i, reading)
        break
    if head is None:
        return []
    index, noun = head
    gender = next((g for g in ("masc", "femn", "neut") if g in noun.tag.grammemes), None)
    animate = "anim" in noun.tag.grammemes
    forms: list[str] = []
    for case in CASES:
        inflected = noun.inflect({case})
        if inflected is None:
            continue
        words = list(tokens)
        words[index] = _restore_case(tokens[index], inflected.word)
        for j in range(index):
            adjective = morph.adjective(tokens[j], gender)
            if adjective is None:
                continue
            wanted = {case} | ({"anim" if animate else "inan"} if case == "accs" else set())
            form = adjective.inflect(wanted) or adjective.inflect({case})
            if form is not None:
                words[j] = _restore_case(tokens[j], form.word)
        forms.append(" ".join(words))
    return forms


# Belarusian endings in the genitive, dative, instrumental and locative: by how the nominative
# ends, adjectives first (their gender is in their own ending), then nouns. Where two readings
# are possible (a feminine or a neuter «-а»; «-у» or «-е» in the locative) both are generated: a
# form no text uses costs nothing.
_BE_ADJECTIVE = (
    ("кі", ("кага", "каму", "кім", "кім")), ("гі", ("гага", "гаму", "гім", "гім")),
    ("ы", ("ага", "аму", "ым", "ым")), ("і", ("яга", "яму", "ім", "ім")),
    ("ая", ("ай", "ай", "ай", "ай")), ("яя", ("яй", "яй", "яй", "яй")),
    ("ае", ("ага", "аму", "ым", "ым")),
)  # fmt: skip
_BE_NOUN = (
    ("ія", (("іі",), ("іі",), ("іяй",), ("іі",))),
    ("ій", (("ія",), ("ію",), ("іем",), ("іі",))),
    ("а", (("ы", "і", "а"), ("е", "у"), ("ай", "ам"), ("е",))),
    ("я", (("і",), ("і",), ("яй",), ("і",))),
    ("сць", (("сці",), ("сці",), ("сцю",), ("сці",))),
    ("ь", (("я", "і"), ("ю", "і"), ("ем", "ю"), ("і",))),
    ("е", (("я",), ("ю",), ("ем",), ("і",))),
    ("", (("а", "у"), ("у",), ("ам",), ("е", "у"))),
)  # fmt: skip


def _belarusian_forms(name: str, declines: Callable[[str], bool]) -> list[str]:
    tokens = name.split(" ")
    adjectives = [e for e, _ in _BE_ADJECTIVE]
    head = next(
        (i for i, t in enumerate(tokens) if t.isupper() or not t.endswith(tuple(adjectives))),
        None,
    )
    if head is None or any(q in "".join(tokens[: head + 1]) for q in _QUOTES):
        return []
    noun = tokens[head]
    if _is_acronym(noun) and not declines(noun):
        return []
    ending, by_case = next((e, ends) for e, ends in _BE_NOUN if noun.lower().endswith(e))
    stem = noun[: len(noun) - len(ending)]
    forms = []
    for case, suffixes in enumerate(by_case):
        for suffix in suffixes:
            words = list(tokens)
            words[head] = stem + suffix
            for j in range(head):
                for adj_ending, adj_endings in _BE_ADJECTIVE:
                    if tokens[j].endswith(adj_ending):
                        words[j] = tokens[j][: -len(adj_ending)] + adj_endings[case]
                        break
            forms.append(" ".join(words))
    return forms


def _is_acronym(token: str) -> bool:
    return len(token) >= 2 and (token.isupper() or any(c.isupper() for c in token[1:]))


_DE_ADJECTIVE = re.compile(
    r"^(?P<stem>[A-ZÄÖÜ][\w-]*?(?:isch|lich|ig|al|ar|er|en|ert|eit))(?P<end>e|er|es|en)$"
)


def _german_forms(name: str) -> list[str]:
    """Adjectives before the head noun take every strong and weak ending («Europäische
    Zentralbank» -> «Europäischen Zentralbank»; «Internationaler Währungsfonds» ->
    «Internationalen Währungsfonds»)."""
    tokens = name.split(" ")
    forms = []
    for ending in ("e", "en", "er", "es", "em"):
        words = list(tokens)
        changed = False
        for j, token in enumerate(tokens[:-1]):
            match = _DE_ADJECTIVE.match(token)
            if match is None or not tokens[j + 1][:1].isupper():
                break
            words[j] = match["stem"] + ending
            changed = changed or words[j] != token
        if changed:
            forms.append(" ".join(words))
    return forms


def _organisations() -> dict[str, Any]:
    text = resources.files("services.enrich").joinpath("data", SOURCE_FILE).read_text("utf-8")
    return tomllib.loads(text)


@cache
def _inflectors() -> dict[str, Inflector]:
    russian, ukrainian = _Pymorphy("ru"), _Pymorphy("uk")
    return {
        "ru": lambda name: _slavic_forms(russian, name),
        "uk": lambda name: _slavic_forms(ukrainian, name),
        # Belarusian acronyms are mostly the Russian ones (МАЗ, БелАЗ, МВФ): whether one
        # declines is the Russian dictionary's guess.
        "be": lambda name: _belarusian_forms(name, russian.declines),
        "de": _german_forms,
        "en": lambda _name: [],
    }


def _missed(names: Iterable[str], forms: Iterable[str]) -> Iterator[str]:
    """The forms that the declension classes do not already find as one of ``names``."""
    builder = GazetteerBuilder()
    entry = Entry("probe", "ORG", "org")
    for name in names:
        builder.add(name, entry)
    probe = builder.build()
    for form in forms:
        matches = probe.find(form)
        if not (len(matches) == 1 and (matches[0].start, matches[0].end) == (0, len(form))):
            yield form


def generate(organisations: Mapping[str, Any]) -> dict[str, dict[str, list[list[str]]]]:
    """For each organisation and language: [form, nominative] pairs the classes miss."""
    inflectors = _inflectors()
    out: dict[str, dict[str, list[list[str]]]] = {}
    for key, table in organisations.items():
        names = [n for lang in LANGUAGES for n in table.get(lang, [])]
        per_language: dict[str, list[list[str]]] = {}
        for lang in LANGUAGES:
            pairs: dict[str, str] = {}
            for name in table.get(lang, []):
                if lang in ("ru", "uk", "be") and not has_cyrillic(name):
                    continue
                for form in _missed(names, inflectors[lang](name)):
                    if form != name and form not in names:
                        pairs.setdefault(form, name)
            if pairs:
                per_language[lang] = [[form, name] for form, name in sorted(pairs.items())]
        if per_language:
            out[key] = per_language
    return out


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(forms: Mapping[str, Mapping[str, list[list[str]]]]) -> str:
    lines = [
        "# GENERATED by `python -m services.enrich.entities.org_forms` from organisations.toml:",
        "# do not edit. Case forms of the curated names that the gazetteer's declension classes",
        "# miss, as [form, nominative]: ru and uk from pymorphy3's dictionaries, be and de by",
        "# rule (see the module's docstring).",
    ]
    for key, per_language in forms.items():
        lines.append("")
        lines.append(f"[{key}]")
        for lang, pairs in per_language.items():
            items = ", ".join(f"[{_toml_string(f)}, {_toml_string(n)}]" for f, n in pairs)
            lines.append(f"{lang} = [{items}]")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    target = resources.files("services.enrich").joinpath("data", FORMS_FILE)
    generated = generate(_organisations())
    with open(str(target), "w", encoding="utf-8") as out:
        out.write(render(generated))
    print(sum(len(p) for v in generated.values() for p in v.values()), "forms ->", target)
