# One image for every archiver process: the Celery worker (default command), the bridge
# (`archiver bridge`), the poller (`archiver poll`), Flower (`celery -A archiver flower`)
# and the tools (`archiver health`, `archiver config`, `archiver emulator`).
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user with a fixed uid/gid 10001. The archive and retrieve folders below
# belong to it, so a named volume mounted there starts owned by it (Docker copies the
# folder's owner into an empty named volume); a bind mount must be chown'ed to 10001.
RUN groupadd --system --gid 10001 archiver \
 && useradd --system --uid 10001 --gid archiver --create-home --home-dir /home/archiver \
        --shell /usr/sbin/nologin archiver

WORKDIR /opt/scicat-archiver
COPY pyproject.toml README.md celeryconfig.py ./
COPY archiver ./archiver
COPY tasks ./tasks
RUN pip install ".[redis]" \
 && rm -rf build *.egg-info \
 && mkdir -p /var/lib/archiver/rabbitmq /var/lib/archiver/archive /var/lib/archiver/retrieve \
 && chown -R archiver:archiver /var/lib/archiver

USER archiver
WORKDIR /home/archiver

# Broker reachable, SciCat reachable, login accepted. Containers that never call SciCat
# (the bridge, Flower) override it with `archiver health --skip-scicat`.
HEALTHCHECK --interval=30s --timeout=30s --start-period=30s --retries=3 \
    CMD ["archiver", "health"]

# A worker; add --with-bridge (or ARCHIVER_BRIDGE_IN_WORKER=true) for a one-container setup,
# or run the bridge as its own container with `archiver bridge` (what docker-compose.yml does).
CMD ["celery", "-A", "archiver", "worker"]
