"""/docs: Swagger UI served from the installed package, so it works on an offline network.

The JavaScript and CSS come from the ``fastapi-offline`` wheel (Swagger UI 5, which renders
OpenAPI 3.1); nothing is fetched from a CDN.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

__all__ = ["install_docs", "DOCS_URL"]

DOCS_URL = "/docs"
_ASSETS = f"{DOCS_URL}/assets"
_REDIRECT = f"{DOCS_URL}/oauth2-redirect"


def install_docs(app: FastAPI, *, openapi_url: str) -> None:
    """Serve Swagger UI at /docs with its assets from the package."""
    folder = files("fastapi_offline") / "static"
    app.mount(_ASSETS, StaticFiles(directory=str(folder)), name="docs-assets")

    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{_ASSETS}/favicon.png",
            oauth2_redirect_url=_REDIRECT,
        )

    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.add_api_route(DOCS_URL, swagger_ui, include_in_schema=False)
    app.add_api_route(_REDIRECT, oauth2_redirect, include_in_schema=False)
