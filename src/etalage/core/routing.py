"""Routes that analyse their endpoint when first used, and mounting routers without rebuilding them.

FastAPI analyses a route when it is declared: it evaluates the endpoint's signature, builds a pydantic
field for every parameter and for the response model, and (since 0.16x) does all of it again for every
``include_router`` context on the first request. With ~300 routes that was the largest part of the
server's start (about 0.6 s of 2.4 s before ``/healthz`` answered). Here a route keeps only what matching
a request needs (path pattern, methods, name) and builds the rest on first access to any other
attribute: when it first handles a request, or when the OpenAPI document is generated (which a test does
for every route, so a broken signature still fails the suite, not a shopper's first request).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import compile_path, get_name


class LazyAPIRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self.__dict__["_deferred"] = (path, endpoint, kwargs)
        self.__dict__["_build_lock"] = threading.RLock()
        self.path = path
        self.endpoint = endpoint
        self.name = kwargs.get("name") or get_name(endpoint)
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.methods = {method.upper() for method in kwargs.get("methods") or ["GET"]}
        self.include_in_schema = kwargs.get("include_in_schema", True)

    def __getattr__(self, attr: str) -> Any:
        # Reached only for attributes not set yet, i.e. the ones the full analysis sets.
        if attr.startswith("__") or self.__dict__.get("_deferred") is None or self.__dict__.get("_building"):
            raise AttributeError(attr)
        self.build()
        return getattr(self, attr)

    def build(self) -> None:
        """Run FastAPI's analysis of the endpoint now (idempotent, thread-safe)."""
        with self.__dict__["_build_lock"]:
            deferred = self.__dict__.get("_deferred")
            if deferred is None:
                return
            path, endpoint, kwargs = deferred
            self.__dict__["_building"] = True
            try:
                super().__init__(path, endpoint, **kwargs)
            finally:
                self.__dict__["_building"] = False
            self.__dict__["_deferred"] = None


def api_router(**kwargs: Any) -> APIRouter:
    """An ``APIRouter`` whose routes are analysed on first use (see the module's docstring)."""
    kwargs.setdefault("route_class", LazyAPIRoute)
    return APIRouter(**kwargs)


def mount(target: APIRouter, routers: Iterable[APIRouter]) -> None:
    """Put ``routers``' routes on ``target`` as they are.

    ``include_router`` would make FastAPI analyse every route once more per include on the first request;
    Etalage's routers are included with no prefix, tags or dependencies of their own, so the routes are
    the same either way and each is analysed once.
    """
    for router in routers:
        target.routes.extend(router.routes)
