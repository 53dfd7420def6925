"""Serving the API from the command line."""

from __future__ import annotations

import typer


def serve_demo(store_url: str, port: int) -> None:
    import uvicorn

    from api.app import create_app
    from costopt.config import ApiSettings, Settings

    settings = Settings(store_url=store_url, api=ApiSettings(auth_enabled=False))
    typer.echo(f"serving the API on http://127.0.0.1:{port} (auth is OFF: demo data only); "
               "Ctrl-C stops it")
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
