"""The web app people use: server-rendered pages (Jinja2), small plain JavaScript, no build step.

Shopper app (feed, shop, live, orders, me), seller center (``/seller``), creator studio (``/studio``) and
moderation console (``/moderation``). Pages call domain services to render, and their scripts call the
JSON API; no domain imports this package.
"""
