"""The web console: server-rendered pages (Jinja2, htmx) for the people in the field.

Mounted at ``/`` by the API application (``api/http/app.py``); see ``app.py``.
"""
