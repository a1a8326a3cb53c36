# One image for every Headwater service: SERVICE selects the package to run.
FROM python:3.11-slim-bookworm
ARG SERVICE=planner
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 HEADWATER_SERVICE=${SERVICE}
WORKDIR /app
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY libs/headwater ./libs/headwater
# the operator tooling (libs/headwater-ops: CLI, runtime manager) is not part of a service image
COPY services ./services
RUN pip install --no-deps -e libs/headwater -e services/planner -e services/collection-model -e services/worker
RUN useradd --uid 10001 --no-create-home headwater
USER 10001
CMD ["sh", "-c", "exec python -m $(echo $HEADWATER_SERVICE | tr - _)"]
