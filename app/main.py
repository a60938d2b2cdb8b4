"""The FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from sqlalchemy import Engine

from app import __version__, budgets
from app import logging as dw_logging
from app.api import errors
from app.api.guards import JsonGuard
from app.api.routes import advice, dose_response, exports, fields, meta, prescriptions, products, uploads
from app.api.routes import jobs as jobs_routes
from app.jobs.engine import JobEngine
from app.jobs.runners import RUNNERS, classify
from app.models.db import make_engine, session_factory
from app.models.migrate import upgrade
from app.settings import Settings, get_settings
from app.web import routes as web_routes

DESCRIPTION = """
Dosewise turns a field boundary, a weed-density map and a product label into a
variable-rate herbicide prescription that stays within the label: no cell above
the label maximum, nothing sprayed in a buffer or outside the field.

Authenticate with `Authorization: Bearer <key>` (create one with
`dosewise keys create --org NAME --role agronomist`). Geometry is GeoJSON in
WGS84 `[longitude, latitude]`; grids are in a projected CRS in metres.
"""


def create_app(settings: Settings | None = None, *, engine: Engine | None = None,
               migrate: bool = True, run_jobs: bool = True) -> FastAPI:
    """Build the app; migrations run at start unless ``migrate`` is False.

    ``run_jobs`` starts the job relay (and, without a broker, the in-process worker
    pool) while the app runs; tests bound to a rolled-back transaction turn it off.
    """
    settings = settings or get_settings()
    budgets.configure(settings.budgets)
    dw_logging.configure(settings.log_level, settings.log_json)
    owns_engine = engine is None
    engine = engine or make_engine(settings.resolved_database_url)
    jobs = JobEngine(engine, RUNNERS, broker_url=settings.broker_url, queue=settings.job_queue,
                     threads=settings.job_workers, classify=classify)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if run_jobs:
            jobs.start()
        try:
            yield
        finally:
            jobs.stop()
            if owns_engine:
                engine.dispose()

    if migrate:
        upgrade(settings.resolved_database_url)

    app = FastAPI(title="Dosewise", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None,
                  # operationId = the route function's name (post_field, list_fields): what generated clients
                  # call their methods, instead of FastAPI's post_field_v1_fields_post.
                  generate_unique_id_function=lambda route: route.name)
    _offline_docs(app)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = session_factory(engine)
    app.state.write_session_factory = session_factory(engine, write=True)
    app.state.jobs = jobs
    errors.install(app)
    for router in (meta.router, fields.router, products.router, prescriptions.router, dose_response.router,
                   uploads.router, exports.router, advice.router, web_routes.router, jobs_routes.router):
        app.include_router(router)
    errors.document_errors(app)
    # Inner first: JsonGuard sees bodies already size-limited (and inflated) by RequestMiddleware.
    app.add_middleware(JsonGuard)
    app.add_middleware(dw_logging.RequestMiddleware, max_body_bytes=settings.max_body_bytes,
                       max_upload_bytes=settings.max_upload_bytes,
                       max_header_bytes=settings.max_header_kb * 1024, upload_suffixes=("/weed-maps/geotiff",))
    return app


VENDOR = "/static/vendor"
# The docs pages load nothing from elsewhere: ReDoc's footer logo would come from its CDN otherwise.
DOCS_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; worker-src 'self' blob:; connect-src 'self'; font-src 'self' data:")


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI at /docs and ReDoc at /redoc from vendored assets: no CDN, so they work offline."""

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=str(app.openapi_url), title="Dosewise API",
            swagger_js_url=f"{VENDOR}/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url=f"{VENDOR}/swagger-ui/swagger-ui.css",
            swagger_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png",
            oauth2_redirect_url=None,
            swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
        )
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        page = get_redoc_html(openapi_url=str(app.openapi_url), title="Dosewise API",
                              redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
                              redoc_favicon_url=f"{VENDOR}/swagger-ui/favicon-32x32.png", with_google_fonts=False)
        page.headers["Content-Security-Policy"] = DOCS_CSP
        return page
