"""A person's privacy requests: a copy of their data (GDPR Art. 15/20) and erasure (Art. 17)."""

from __future__ import annotations

from fastapi import Request, status
from fastapi.responses import FileResponse

from etalage.accounts.deps import CurrentPrincipal
from etalage.compliance import erasure, exports
from etalage.compliance.schemas import ErasureIn, ErasureOut, ExportOut
from etalage.core.deps import DbSession
from etalage.core.routing import api_router

router = api_router(prefix="/api/v1", tags=["privacy"])


@router.post("/me/exports", response_model=ExportOut, status_code=status.HTTP_202_ACCEPTED)
def start_export(request: Request, session: DbSession, principal: CurrentPrincipal) -> ExportOut:
    """Start gathering a copy of everything Etalage holds about you; poll the answer's resource for progress.
    One at a time, three a day."""
    export = exports.start(session, principal, request.app.state.limiter)
    return ExportOut.model_validate(exports.export_json(export))


@router.get("/me/exports", response_model=list[ExportOut])
def list_exports(session: DbSession, principal: CurrentPrincipal) -> list[ExportOut]:
    return [ExportOut.model_validate(exports.export_json(e)) for e in exports.mine(session, principal)]


@router.get("/me/exports/{export_id}", response_model=ExportOut)
def get_export(export_id: str, session: DbSession, principal: CurrentPrincipal) -> ExportOut:
    """Progress (0–100) and, when ready, the download URL; expires after a week."""
    return ExportOut.model_validate(exports.export_json(exports.get(session, principal, export_id)))


@router.get(
    "/me/exports/{export_id}/download",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The zip."}},
)
def download_export(export_id: str, session: DbSession, principal: CurrentPrincipal) -> FileResponse:
    """The zip (only to its owner, never cached)."""
    path = exports.file_for(session, principal, export_id)
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"etalage-data-{export_id}.zip",
        headers={"Cache-Control": "private, no-store"},
    )


@router.post("/me/erasure", response_model=ErasureOut, status_code=status.HTTP_202_ACCEPTED)
def request_erasure(
    body: ErasureIn, request: Request, session: DbSession, principal: CurrentPrincipal
) -> ErasureOut:
    """Erase your account, with your password. It stops working at once (every session and token ends) and
    the erasure finishes in the background; orders stay for tax law without your name or address. A merchant
    you own alone, or an order still on its way, must be dealt with first (409 says what to do)."""
    client = request.client.host if request.client else "unknown"
    req = erasure.request(
        session, principal, body.password, limiter=request.app.state.limiter, client_ip=client
    )
    return ErasureOut.model_validate(erasure.erasure_json(req))
