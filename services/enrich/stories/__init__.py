"""Stories: reports of one event, across languages, grouped as they stream in.

Entry point: ``assign_story(doc, ...)`` from the enrich step. The modules, one job each:

- ``facts``: dates and percentages named in a text;
- ``signature``: a document's language-independent signature, its similarity to a story and the
  vetoes of numbers and dates;
- ``assign``: the streaming decision (join, start, merge) and the story records;
- ``store``: where stories live, in memory for one run or in Redis for the workers.
"""

from __future__ import annotations

from services.enrich.stories.assign import DocumentTime, StoryAssignment
from services.enrich.stories.signature import StorySignature, story_signature
from services.enrich.stories.store import MemoryStories, RedisStories, StoryParams, StoryStore

__all__ = [
    "VERSION",
    "DocumentTime",
    "MemoryStories",
    "RedisStories",
    "StoryAssignment",
    "StoryParams",
    "StorySignature",
    "StoryStore",
    "story_signature",
]

VERSION = "19"
