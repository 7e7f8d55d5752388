"""A soft time limit that strikes inside a library comes out wrapped in that library's error;
the base task must still read it as the document's time limit (``timeout``), not as a bug."""

from __future__ import annotations

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from kombu.exceptions import EncodeError
from kombu.serialization import dumps

from shared.tasks import soft_limit_behind


class _StrikesWhenSerialised:
    """An object whose serialisation is interrupted by the soft limit, as a large result's is
    when the limit strikes while kombu encodes it for the next stage."""

    def __reduce__(self) -> str | tuple[object, ...]:
        raise SoftTimeLimitExceeded


def test_a_soft_limit_inside_kombus_encoding_is_found_behind_its_encode_error() -> None:
    with pytest.raises(EncodeError) as raised:
        dumps({"body": _StrikesWhenSerialised()}, serializer="pickle")
    assert isinstance(soft_limit_behind(raised.value), SoftTimeLimitExceeded)


def test_a_soft_limit_raised_as_the_cause_of_another_error_is_found() -> None:
    limit = SoftTimeLimitExceeded()
    error = RuntimeError("while publishing")
    error.__cause__ = limit
    assert soft_limit_behind(error) is limit


def test_an_error_with_no_time_limit_behind_it_is_a_failure() -> None:
    inner = KeyError("x")
    error = ValueError("bad")
    error.__context__ = inner
    inner.__context__ = error  # a cycle must end the walk, not loop
    assert soft_limit_behind(error) is None
    assert soft_limit_behind(SoftTimeLimitExceeded()) is not None
