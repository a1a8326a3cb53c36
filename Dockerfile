# syntax=docker/dockerfile:1
# One image for the three services; the container's argument picks one:
#   docker build -t headwater .
#   docker run headwater planner | collection_model | worker
# Build stage: the services and exactly the third-party packages they declare, at the pins of
# requirements.lock (-c). The dev tools of the lock (pytest, mypy, ruff, ...) are not installed,
# nor the operator tooling (libs/headwater-ops) or the examples.
FROM python:3.11.14-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements.lock ./
COPY libs/headwater ./libs/headwater
COPY services/planner ./services/planner
COPY services/collection-model ./services/collection-model
COPY services/worker ./services/worker
RUN python -m venv /opt/headwater \
 && /opt/headwater/bin/pip install -c requirements.lock \
      ./libs/headwater ./services/planner ./services/collection-model ./services/worker \
 && /opt/headwater/bin/pip uninstall -y pip

# Runtime stage: no compiler, no pip, no sources beyond the installed packages; non-root and
# fit for a read-only root filesystem (no bytecode written at run time).
FROM python:3.11.14-slim-bookworm
RUN groupadd --gid 10001 headwater && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin headwater
COPY --from=build /opt/headwater /opt/headwater
ENV PATH=/opt/headwater/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HEADWATER_BIND_ADDRESS=0.0.0.0 \
    HEADWATER_LOG_JSON=true
USER 10001:10001
ENTRYPOINT ["python", "-m"]
CMD ["planner"]
