"""The ingest stage: raw bytes in, a decoded, cleaned ``ParsedDocument`` out.

The pure steps (decode, normalize, header, repair, parse) know nothing of Celery or Redis.
"""
