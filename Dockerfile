# goalflow's image: the same one runs migrate, web, worker and beat (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The image listens on every interface, so it is held to the production checks (service/config.py):
# it does not start without the settings docs/production.md lists.
ENV ENV=production

# WeasyPrint draws PDFs with pango; DejaVu has the Cyrillic glyphs, Liberation Serif the metrics of
# Times New Roman that the exports are laid out in; pg_dump/pg_restore for backups.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation2 postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin goalflow
WORKDIR /app

# Dependencies in their own layer: it is rebuilt when pyproject.toml changes, not with every code edit.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY --chown=root:root . .
# VAR_DIR (the default /app/var) is the one place the app may write to.
RUN python -m compileall -q service worker workflows \
    && mkdir -p /app/var && chown goalflow:goalflow /app/var

USER goalflow
EXPOSE 8000
CMD ["gunicorn", "--config", "deploy/gunicorn.conf.py", "--bind", "0.0.0.0:8000", "service.wsgi:app"]
