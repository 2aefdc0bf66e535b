# AccuNode: one image for every role; the command picks it (serve, worker, bulk-score, db upgrade).
#
#   docker build -t accunode .
#   docker run --rm -p 8000:8000 --read-only --tmpfs /tmp -v accunode-data:/data accunode
#
# PYTHON_IMAGE lets a machine without Docker Hub build on a local copy of the same base.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: a virtual environment with AccuNode and its run-time dependencies only --------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

# binutils (strip) serves this build stage only: the wheels' shared libraries carry symbol
# tables nothing reads at run time. Unpinned: Debian's security updates replace old versions.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends binutils \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/accunode
WORKDIR /src
# LICENSE* : the licence file the package metadata names, when the project has one
COPY pyproject.toml README.md LICENSE* ./
COPY accunode_cli ./accunode_cli
# The plain package: no training or development extras. What running never loads leaves the
# environment: pip and setuptools, test suites, C headers and sources, pyarrow's Flight RPC
# libraries (a fifth of pyarrow, which nothing links), and symbol tables. strip leaves alone
# the libraries auditwheel patched (numpy.libs and the like, or an RPATH other than $ORIGIN):
# stripping those breaks them, and the imports below check it. The bytecode is compiled once
# here, since the root filesystem is read-only at run time (unchecked-hash: valid whatever the
# files' timestamps).
RUN /opt/accunode/bin/pip install --no-compile . \
    && /opt/accunode/bin/pip uninstall --yes pip setuptools
WORKDIR /opt/accunode/lib/python3.11/site-packages
RUN rm -rf pyarrow/include pyarrow/src pyarrow/tests pyarrow/*flight* \
    && find . -depth -type d -name tests -exec rm -rf {} + \
    && find . -type f \( -name '*.pyx' -o -name '*.pxd' -o -name '*.h' -o -name '*.cc' \) -delete \
    && find . -type f -name '*.so*' ! -path './*.libs/*' -exec sh -c 'for lib; do \
        runpath="$(readelf -d "$lib" | sed -n "s/.*R[UN]*PATH.*\[\(.*\)\]/\1/p")"; \
        case "$runpath" in ""|"\$ORIGIN") strip --strip-unneeded "$lib" ;; esac; \
    done' sh {} + \
    && /opt/accunode/bin/python -c "import numpy, pyarrow.csv, pyarrow.compute, pyarrow.fs, \
pyarrow.parquet, psycopg, sqlalchemy, fastapi, uvicorn, uvloop, httptools, yaml, watchfiles, \
pydantic_core, accunode_cli.main, accunode_cli.server.app" \
    && /opt/accunode/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash \
        /opt/accunode/lib

# ---- runtime: the slim base, the environment, a numeric non-root user ----------------------
FROM ${PYTHON_IMAGE} AS runtime

# Scoring evaluates the shipped trees with numpy (no LightGBM, so no OpenMP runtime); the base
# image ships the standard library without bytecode, compiled here for the read-only root.
RUN python -m compileall -q -j 0 --invalidation-mode unchecked-hash \
        "$(python -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')" \
    && mkdir -p /data \
    && chown 10001:10001 /data

COPY --from=build /opt/accunode /opt/accunode

# Writable places are settings, so the root filesystem can be read-only: the data folder
# (the SQLite file of the embedded mode, local blobs) on a volume, temporary files on a tmpfs.
ENV PATH=/opt/accunode/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ACCUNODE_DATA_DIR=/data \
    ACCUNODE_CONFIG_DIR=/data/config \
    HOME=/tmp \
    TMPDIR=/tmp

USER 10001:10001
WORKDIR /data
EXPOSE 8000
# No HEALTHCHECK: the same image runs the API, the worker and one-off tasks, and only the API
# listens; compose.yaml and the ECS task definitions check each role their own way.
ENTRYPOINT ["accunode"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
