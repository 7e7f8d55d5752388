"""The enrich stage: one small module per enricher (language, dedupe), composed by ``stage``."""
