"""One error format for the whole API: RFC 9457 problem details (``application/problem+json``).

Services raise :class:`Problem` subclasses; they carry a status and a stable ``type`` slug but know nothing
about HTTP otherwise. The handlers here turn them, request-validation errors and anything unexpected into
problem documents, so no route can answer with an HTML error page or a bare 500 body.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

PROBLEM_BASE = "https://etalage.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("etalage.errors")


class Problem(Exception):
    status: int = 400
    code: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


class BadRequest(Problem):
    status, code, title = 400, "bad-request", "Bad request"


class InvalidInput(Problem):
    status, code, title = 422, "invalid-input", "The request has invalid fields"


class Unauthorized(Problem):
    status, code, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="etalage"'})
        super().__init__(detail, **kw)


class Forbidden(Problem):
    status, code, title = 403, "forbidden", "Not allowed"


class NotFound(Problem):
    status, code, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, code, title = 409, "conflict", "Conflict with the current state"


class Gone(Problem):
    status, code, title = 410, "gone", "No longer available"


class PayloadTooLarge(Problem):
    status, code, title = 413, "payload-too-large", "Request body too large"


class UnsupportedMediaType(Problem):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class RateLimited(Problem):
    status, code, title = 429, "rate-limited", "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: float = 1.0, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(max(1, int(retry_after + 0.999)))})
        super().__init__(detail, retry_after=round(retry_after, 3), **kw)


class ServiceUnavailable(Problem):
    status, code, title = 503, "unavailable", "Temporarily unavailable"


class UpstreamTimeout(Problem):
    status, code, title = 504, "upstream-timeout", "An upstream service did not answer in time"


def problem_body(
    status: int, code: str, title: str, detail: str, *, instance: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    from etalage.core.http import current_request_id

    body = problem_body(
        status,
        code,
        title,
        detail,
        instance=request.url.path if request is not None else None,
        request_id=current_request_id(),
        **extra,
    )
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for err in errors:
        item = {
            "loc": _loc(err.get("loc", ())),
            "message": err.get("msg", "invalid"),
            "type": err.get("type"),
        }
        out.append(item)
    return out


_STATUS_CODES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict with the current state"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    416: ("range-not-satisfiable", "Requested range not satisfiable"),
    429: ("rate-limited", "Too many requests"),
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return problem_response(
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            request=request,
            headers=exc.headers,
            errors=exc.errors,
            **exc.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return problem_response(
                400,
                "malformed-json",
                "Malformed JSON",
                "The request body is not valid JSON.",
                request=request,
                errors=field_errors(errors),
            )
        return problem_response(
            422,
            "invalid-input",
            "The request has invalid fields",
            f"{len(errors)} field(s) failed validation.",
            request=request,
            errors=field_errors(errors),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code, title = _STATUS_CODES.get(exc.status_code, ("http-error", "HTTP error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No route for {request.method} {request.url.path}."
        return problem_response(
            exc.status_code, code, title, detail, request=request, headers=getattr(exc, "headers", None)
        )


def internal_error_body(path: str) -> dict[str, Any]:
    from etalage.core.http import current_request_id

    return problem_body(
        500,
        "internal-error",
        "Internal error",
        "Something went wrong on our side; nothing was changed. Quote the request id when reporting it.",
        instance=path,
        request_id=current_request_id(),
    )
