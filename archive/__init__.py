"""The analysts' archive: a Starlette + Jinja2 web UI over the store (see archive/app.py)."""
