"""The index stage: stores enriched documents and answers searches over them.

Backends keep the full ``EnrichedDocument`` so a search hit can always be traced back to what was
indexed; they never modify a document, only store, replace and look it up by its id.
"""
