# One image for the six Declic services; each Deployment picks its service with
#   command: ["python", "-m", "services.<name>"]
# Build:  docker build -t declic:dev .        (see docs/deploy.md)
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: a virtual environment with Declic and its dependencies, and the gRPC stubs ----
FROM ${PYTHON_IMAGE} AS build
# Keep equal to grpcio-tools in pyproject.toml (dev): `make lint` checks it.
ARG GRPCIO_TOOLS_VERSION=1.85.1
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# A C compiler: LightFM (lightfm-next) builds from its sdist.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src

# Dependencies first, from pyproject.toml alone (empty packages stand in for the
# code): this slow layer, LightFM's compilation included, is rebuilt only when
# pyproject.toml changes, not at every code change.
COPY pyproject.toml README.md ./
RUN mkdir -p declic services && touch services/__init__.py && pip install .
COPY declic ./declic
COPY services ./services
RUN pip install --no-deps --force-reinstall .

# Stubs from protos/ with grpcio-tools, which stays out of the runtime venv.
# The wheel packages `declic` and `services` only; the stubs go to /opt/declic-gen,
# another portion of the `declic` namespace package, put on PYTHONPATH below.
COPY protos ./protos
RUN python -m venv /opt/tools \
 && /opt/tools/bin/pip install grpcio-tools==${GRPCIO_TOOLS_VERSION} \
 && mkdir -p /opt/declic-gen \
 && /opt/tools/bin/python -m grpc_tools.protoc -Iprotos --python_out=/opt/declic-gen \
      --grpc_python_out=/opt/declic-gen --pyi_out=/opt/declic-gen $(find protos -name '*.proto') \
 && python -m compileall -q /opt/declic-gen

# ---- runtime: no compiler, non-root, nothing written outside /tmp ----
FROM ${PYTHON_IMAGE} AS runtime
# libgomp1: LightFM's OpenMP extension links it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 declic \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/declic --create-home \
      --shell /usr/sbin/nologin declic
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/declic-gen /opt/declic-gen
# The data the services read at run time: the scenario catalogue and the pressure policy (a deployment may
# mount its own over them, e.g. from a ConfigMap, or point the two variables elsewhere).
COPY scenarios /opt/declic/scenarios
COPY policies /opt/declic/policies
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/opt/declic-gen \
    DECLIC_SCENARIOS_DIR=/opt/declic/scenarios \
    DECLIC_ARBITER_POLICY_FILE=/opt/declic/policies/pressure.yaml \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DECLIC_HOST=0.0.0.0 \
    DECLIC_VAR_DIR=/tmp/declic
WORKDIR /var/lib/declic
# Numeric, so that Kubernetes can verify runAsNonRoot.
USER 10001:10001
EXPOSE 50051 50052 50053 50054 50055 50056 8080
CMD ["declic", "--help"]
