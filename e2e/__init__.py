"""Drive the demo (``scripts/develop``) as a person would: the browser end-to-end run.

``demo`` starts and stops ``scripts/develop`` on free ports with a fresh configuration,
``hass_api`` onboards Home Assistant and talks to it over REST and the websocket,
``browser`` (Playwright with Debian's Chromium) clicks through the frontend and times it.
``python -m e2e`` is what ``scripts/e2e`` runs.
"""
