"""The WSGI entry point gunicorn imports (one app per worker, preload off)."""

from serving.app import create_app

app = create_app()
