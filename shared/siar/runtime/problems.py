"""RFC 9457 problem details: the one error shape of every Siar HTTP API."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:siar:problem:"


class Problem(Exception):
    """An error a client can act on; rendered as problem+json with a stable ``type``."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.headers = headers or {}
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        """The problem document."""
        doc: dict[str, Any] = {
            "type": TYPE_PREFIX + self.kind,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            doc["detail"] = self.detail
        if instance:
            doc["instance"] = instance
        doc.update(self.extra)
        return doc


def not_found(what: str, detail: str | None = None) -> Problem:
    """A 404 for an unknown ``what`` (also used where revealing existence would leak)."""
    return Problem(404, "not-found", f"{what} not found", detail)


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    """Render a problem for ``request``."""
    headers = {"WWW-Authenticate": "Bearer"} if problem.status == 401 else {}
    headers.update(problem.headers)
    return JSONResponse(
        problem.body(request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


_HTTP_KINDS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation",
    429: "rate-limited",
}


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` a problem+json response."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)  # noqa: S101 - registered for Problem only
        return problem_response(exc, request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)  # noqa: S101
        errors = [
            {
                "loc": [str(p) for p in err.get("loc", ())],
                "msg": err.get("msg", ""),
                "type": err.get("type", ""),
            }
            for err in exc.errors()
        ]
        is_json_error = any(e["type"] == "json_invalid" for e in errors)
        problem = Problem(
            400 if is_json_error else 422,
            "malformed-json" if is_json_error else "validation",
            "Malformed JSON body" if is_json_error else "Request is not valid",
            "; ".join(f"{'.'.join(e['loc'])}: {e['msg']}" for e in errors),
            errors=errors,
        )
        return problem_response(problem, request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)  # noqa: S101
        kind = _HTTP_KINDS.get(exc.status_code, "http-error")
        problem = Problem(exc.status_code, kind, str(exc.detail))
        return problem_response(problem, request)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(Problem(500, "internal", "Internal error"), request)

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)


ErrorMap = dict[type[Exception], tuple[int, str, str]]


def install_domain_errors(app: FastAPI, base: type[Exception], mapping: ErrorMap) -> None:
    """Render a service's domain errors (subclasses of ``base``) by ``mapping``.

    ``mapping`` gives (status, stable type slug, title) per error class; the error's
    message becomes the problem's detail, so it must be written for the client; a
    ``problem_extra`` dict on the error adds members (e.g. a list of violations) and a
    ``problem_headers`` dict adds response headers (e.g. Retry-After).
    """

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        status, slug, title = next(
            (v for k, v in mapping.items() if isinstance(exc, k)),
            (500, "internal", "Internal error"),
        )
        extra = getattr(exc, "problem_extra", None) or {}
        headers = getattr(exc, "problem_headers", None) or {}
        problem = Problem(status, slug, title, str(exc), headers=headers, **extra)
        return problem_response(problem, request)

    app.add_exception_handler(base, on_error)
