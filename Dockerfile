# One image for every newsflow service: the workers differ only in their command.
# It installs the project the same way the README does (pip into an environment, from pyproject).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY newsflow ./newsflow
COPY seeds ./seeds
RUN pip install . && useradd --create-home newsflow && mkdir -p /data && chown newsflow /data
USER newsflow

# Workers log JSON to stdout; the index lives on the /data volume.
ENV NEWSFLOW_LOG_FORMAT=json \
    NEWSFLOW_INDEX_URL=/data/newsflow.db
CMD ["newsflow", "--help"]
