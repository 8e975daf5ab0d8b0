# The control-plane image: the REST API (`videomerge-api`, the default), the operator
# (`videomerge-operator`) and the webhook notifier (`videomerge-notifier`): one image, three entrypoints.
# Build from the repository root:
#   docker build -t videomerge/control:dev .
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/videomerge
COPY pyproject.toml README.md /src/
COPY crds/videomerge_contract /src/crds/videomerge_contract
COPY api/videomerge_api /src/api/videomerge_api
COPY api/videomerge_cli /src/api/videomerge_cli
COPY operator/videomerge_operator /src/operator/videomerge_operator
COPY operator/videomerge_notifier /src/operator/videomerge_notifier
COPY worker-image/videomerge_worker /src/worker-image/videomerge_worker
RUN /opt/videomerge/bin/pip install --no-cache-dir --disable-pip-version-check '/src[api,operator,notifier]'

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ca-certificates \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/* \
 && useradd --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin videomerge
COPY --from=build /opt/videomerge /opt/videomerge
ENV PATH=/opt/videomerge/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8080
CMD ["videomerge-api"]
