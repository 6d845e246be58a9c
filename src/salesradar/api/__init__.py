"""The REST API and the web app factory (FastAPI): ``create_app(workspace, db)``."""

from salesradar.api.app import create_app

__all__ = ["create_app"]
