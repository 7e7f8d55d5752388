# One image per newsflow stage, each with only its own dependencies: the language and NER models
# weigh hundreds of MB that the ingest, index and API images never load.
#
#   docker build --build-arg NEWSFLOW_STAGE=enrich -t newsflow-enrich .
#
# NEWSFLOW_STAGE is ingest (also the drop-folder watcher and the reconciler), enrich, index, api,
# or all (everything, for one machine; the default). The image installs the exact versions of
# requirements/<stage>.txt, cut from requirements/all.txt so every image agrees on versions, then
# the project itself without resolving anything again.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
RUN useradd --create-home --uid 1000 newsflow && mkdir -p /data && chown newsflow /data
ARG NEWSFLOW_STAGE=all
COPY requirements/${NEWSFLOW_STAGE}.txt ./requirements.txt
RUN pip install -r requirements.txt
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY newsflow ./newsflow
COPY seeds ./seeds
RUN pip install --no-deps .
USER newsflow

# Workers log JSON to stdout; the index lives on the /data volume.
ENV NEWSFLOW_LOG_FORMAT=json \
    NEWSFLOW_INDEX_URL=/data/newsflow.db
CMD ["newsflow", "--help"]
