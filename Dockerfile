# One image for every newsflow service: the workers differ only in their command.
# It installs the exact versions of requirements/runtime.txt (the lock file CI installs too), then
# the project itself without resolving anything again.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md requirements/runtime.txt ./
COPY shared ./shared
COPY services ./services
COPY newsflow ./newsflow
COPY seeds ./seeds
RUN pip install -r runtime.txt && pip install --no-deps . && useradd --create-home --uid 1000 newsflow && mkdir -p /data && chown newsflow /data
USER newsflow

# Workers log JSON to stdout; the index lives on the /data volume.
ENV NEWSFLOW_LOG_FORMAT=json \
    NEWSFLOW_INDEX_URL=/data/newsflow.db
CMD ["newsflow", "--help"]
