# Dosewise service. Plain image: Python 3.11 slim; rasterio/pyproj/shapely wheels bundle GDAL/PROJ/GEOS.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DOSEWISE_DATA_DIR=/var/lib/dosewise DOSEWISE_SHARE_DIR=/srv/dosewise/data

WORKDIR /srv/dosewise
COPY pyproject.toml README.md ./
COPY app ./app
COPY data ./data
RUN pip install --upgrade pip && pip install . \
    && useradd --system --uid 10001 --home-dir /var/lib/dosewise --create-home dosewise

USER dosewise
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"

# Production: set DOSEWISE_ENVIRONMENT=production and DOSEWISE_DATABASE_URL=postgresql+psycopg://...
CMD ["dosewise", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-samples"]
