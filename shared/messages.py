"""Versioned message models passed between the stages, always as JSON.

Every hop is ``model.model_dump(mode="json")`` out and ``Model.model_validate(payload)`` in; no live
objects and no pickle ever cross a queue. ``schema_version`` lets a worker reject (dead-letter) a
message written by an incompatible producer instead of misreading it.

How raw bytes travel: inline, base64-encoded, when the file is at most ``inline_max_bytes``
(256 KiB by default; news files are a few KiB), otherwise as a claim-check: the bytes are stored
under a Redis key with a TTL and the message carries only the key. See the README for why.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared import keys

SCHEMA_VERSION: Literal[1] = 1

Source = Literal["cli", "watch", "http", "task", "replay", "local"]
HeaderResult = Literal["ok", "absent", "malformed"]
RepairKind = Literal["paragraph_collapsed", "trailer_stripped"]
DatePrecision = Literal["day", "month", "year"]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION


class RawFile(_Message):
    """A raw file as received by ingest, before any decoding."""

    receipt: str = Field(description="Unique id of this submission; the key for its status.")
    source: Source
    filename: str = Field(
        description="The file's name as submitted (a name, never trusted as a path)."
    )
    size: int = Field(ge=0, description="Size in bytes of the original file.")
    received_at: datetime
    content_b64: str | None = Field(default=None, description="The bytes, inline, base64.")
    blob_key: str | None = Field(
        default=None,
        description="Claim-check: Redis key of the bytes, always newsflow:blob:<receipt>.",
    )
    origin_path: str | None = Field(
        default=None, description="Where the submitter read the file; lets a replay re-read it."
    )
    source_name: str | None = Field(
        default=None,
        max_length=64,
        description="The submitter's own name for where the file came from (e.g. a scraper).",
    )

    @model_validator(mode="after")
    def _blob_key_is_its_own(self) -> Self:
        """A message names only its own claim-checked blob. Ingest reads and then deletes the
        key a message gives, so any other key would let a producer read (into a document) and
        delete whatever Redis holds. Checked here, every consumer of the model is covered."""
        if self.blob_key is not None and self.blob_key != keys.blob_key(self.receipt):
            msg = f"blob_key must be {keys.blob_key(self.receipt)!r}, the receipt's own blob"
            raise ValueError(msg)
        return self

    def inline_bytes(self) -> bytes | None:
        return None if self.content_b64 is None else base64.b64decode(self.content_b64)


class HeaderRate(BaseModel):
    """The number and currency from a ``date`` header line.

    Deliberately not interpreted: the header does not say what the rate is a rate of.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    currency: str


class Repair(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: RepairKind
    text: str = Field(description="The paragraph that was removed (first 200 characters).")


class ParsedDocument(_Message):
    """A decoded, cleaned document: what ingest hands to enrich."""

    receipt: str
    source: Source
    filename: str
    received_at: datetime
    size: int
    encoding: str
    source_name: str | None = Field(default=None, max_length=64)
    id: str = Field(description="Content hash of the normalised title and body.")
    title: str
    paragraphs: list[str]
    published: date | None = Field(
        default=None,
        description="When it was published: the day, or with a coarser published_precision the "
        "first day of the month or year it is known to (never a day the source did not give).",
    )
    published_precision: DatePrecision = Field(
        default="day",
        description="How much of published is known: the day, only the month or only the year "
        "(a source dated only by its URL's /2011/10/, a header line «date 2011-10 ...»).",
    )
    header_rate: HeaderRate | None = None
    header: HeaderResult = "absent"
    warnings: list[str] = Field(default_factory=list)
    repairs: list[Repair] = Field(default_factory=list)

    @model_validator(mode="after")
    def _imprecise_date_starts_its_period(self) -> Self:
        """A date known only to the month (year) is written as its month's (year's) first day,
        so that two writers of one period agree and none passes off a guessed day as known."""
        day = self.published
        if day is not None and (
            (self.published_precision == "month" and day.day != 1)
            or (self.published_precision == "year" and (day.month, day.day) != (1, 1))
        ):
            msg = f"a published date known to the {self.published_precision} is its first day"
            raise ValueError(msg)
        return self

    @property
    def published_as_known(self) -> str | None:
        """``published`` written only as far as it is known: 2011-10-20, 2011-10 or 2011."""
        if self.published is None:
            return None
        length = {"day": 10, "month": 7, "year": 4}[self.published_precision]
        return self.published.isoformat()[:length]

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def text(self) -> str:
        """Title and body together: what every enricher works on."""
        return "\n\n".join([self.title, *self.paragraphs])


EntityType = Literal["PER", "ORG", "LOC"]


class _Span(BaseModel):
    """A stretch of ``ParsedDocument.text`` (title, blank line, body): ``text[start:end]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


CurrencyBasis = Literal["explicit", "document", "header", "country", "default"]


class MoneyMention(_Span):
    """An amount of money in the text, in ISO 4217 terms.

    A rouble the text does not qualify («рублей», «Rubel») is Belarusian or Russian by the
    document around it; ``currency_basis`` says what decided: the mention itself (``explicit``:
    a sign, a code or a qualifier such as «белорусских»), the text around it (``document``: a
    country named in its sentence, or a qualified rouble elsewhere), the ``header`` line's
    currency, the document's ``country`` focus, or nothing (``default``: RUB).
    """

    amount: float
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    bound: Literal["exact", "min", "max"] = Field(
        default="exact", description="For a range («от 5 до 7 млн»): its lower or upper end."
    )
    per_currency: str | None = Field(
        default=None, description="For a rate («4930 рублей за доллар»): the unit priced."
    )
    currency_basis: CurrencyBasis = Field(
        default="explicit", description="What decided the currency (see the class docstring)."
    )
    currency_note: str | None = Field(
        default=None, description="Why, in words, when the mention alone does not say."
    )


class CurrencyRate(BaseModel):
    """A currency rate quoted in the text («3,2 рубля за доллар»): one ``base`` costs ``value``
    of ``quote``. The header line's rate has no place in the text (``start``/``end`` null) and,
    as the header never says what it is a rate of, a null ``base``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    quote: str = Field(pattern=r"^[A-Z]{3}$")
    value: float
    text: str
    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=0)


class CountryShare(BaseModel):
    """A country a document is about (ISO 3166 alpha-2) and its share of the evidence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[A-Z]{2}$")
    share: float = Field(ge=0.0, le=1.0)


class Entity(_Span):
    """A person, organisation or location, linked to a key that is the same in every language."""

    type: EntityType
    normal: str = Field(description="Nominative / canonical form.")
    id: str = Field(
        description="Cross-language key: ISO 3166 alpha-2 for countries, geonames:<id> for "
        "cities, org:<key> for organisations, per:<key> for persons."
    )


class LanguageShare(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    share: float = Field(ge=0.0, le=1.0)


class EnrichedDocument(ParsedDocument):
    """A parsed document with what enrich adds: what index stores."""

    language: str = Field(description="ISO 639-1 code, or 'und' when undetermined.")
    language_confidence: float = Field(ge=0.0, le=1.0)
    languages: list[LanguageShare] = Field(
        default_factory=list, description="Per-paragraph languages by share of the text."
    )
    duplicate_of: str | None = None
    near_duplicate_of: str | None = None
    similarity: float | None = Field(default=None, ge=0.0, le=1.0)
    cluster_id: str | None = None
    money: list[MoneyMention] = Field(default_factory=list)
    rates: list[CurrencyRate] = Field(default_factory=list)
    country: str | None = Field(
        default=None, description="ISO 3166 alpha-2 of the country the document is about."
    )
    countries: list[CountryShare] = Field(
        default_factory=list, description="Every country with evidence, by share, largest first."
    )
    entities: list[Entity] = Field(default_factory=list)
    story_id: str | None = Field(
        default=None,
        description="The story (reports of one event, in any language) this document joined "
        "or started; an id merged into another later still resolves to it.",
    )
    story_similarity: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Similarity with the story it joined; None for the document that started it.",
    )
    story_merged_from: list[str] = Field(
        default_factory=list,
        description="Stories this document linked strongly enough to merge into story_id.",
    )
    enrichers: dict[str, str] = Field(
        default_factory=dict, description="Enricher name -> version that produced its fields."
    )


class DeadLetter(BaseModel):
    """A message a stage could not process, kept with everything needed to replay it."""

    model_config = ConfigDict(extra="forbid")

    stage: str
    receipt: str
    reason: str
    error: str
    failed_at: datetime
    task_name: str
    payload: dict[str, object]
    doc_id: str | None = None
