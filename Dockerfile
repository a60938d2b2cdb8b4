# Dosewise service, two stages: dependencies are built into a virtualenv in their own
# layer (rebuilt only when requirements.lock changes), the app on top; the final image
# carries the virtualenv, the app and its data, no build tools.
# rasterio/pyproj/shapely/pyogrio wheels bundle GDAL/PROJ/GEOS: no system packages.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# 1. dependencies, pinned (runtime + the server extra: gunicorn, uvicorn-worker)
COPY requirements.lock ./
RUN pip install --upgrade pip && pip install -r requirements.lock
# 2. the app itself, no dependency resolution (all pinned above)
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install --no-deps '.[server]'

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    DOSEWISE_DATA_DIR=/var/lib/dosewise DOSEWISE_SHARE_DIR=/srv/dosewise/data
RUN useradd --system --uid 10001 --home-dir /var/lib/dosewise --create-home dosewise
COPY --from=build /opt/venv /opt/venv
COPY data /srv/dosewise/data
COPY docker/gunicorn.conf.py /srv/dosewise/gunicorn.conf.py
COPY docker/entrypoint.sh /usr/local/bin/dosewise-entrypoint
WORKDIR /srv/dosewise

USER dosewise
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"

# Production: set DOSEWISE_ENVIRONMENT=production and DOSEWISE_DATABASE_URL=postgresql+psycopg://...
# The entrypoint runs `dosewise migrate` once; the workers build the app without migrating.
ENTRYPOINT ["dosewise-entrypoint"]
CMD ["gunicorn", "--config", "/srv/dosewise/gunicorn.conf.py", "app.main:create_app(migrate=False)"]
