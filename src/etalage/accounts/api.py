"""Accounts routes: thin wrappers over the service."""

from __future__ import annotations

from fastapi import Request, Response, status

from etalage.accounts import service
from etalage.accounts.deps import SESSION_COOKIE, Admin, CurrentPrincipal
from etalage.accounts.models import ApiToken, Membership, Organisation, User
from etalage.accounts.schemas import (
    LoginIn,
    LoginOut,
    MemberAdd,
    MemberOut,
    MembershipOut,
    MeOut,
    OrganisationCreate,
    OrganisationOut,
    ProfilePatch,
    RegisterIn,
    RolesSet,
    TokenCreate,
    TokenCreated,
    TokenOut,
    TokenWithCredentials,
    UserOut,
)
from etalage.config import get_settings
from etalage.core.deps import DbSession
from etalage.core.errors import Forbidden
from etalage.core.routing import api_router

router = api_router(prefix="/api/v1", tags=["accounts"])


def user_out(user: User) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


def token_out(token: ApiToken) -> TokenOut:
    return TokenOut.model_validate(token, from_attributes=True)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post("/accounts", status_code=status.HTTP_201_CREATED, response_model=UserOut)
def register(body: RegisterIn, session: DbSession) -> UserOut:
    roles = ["shopper", "creator"] if body.as_creator else ["shopper"]
    user = service.register_user(
        session,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        roles=roles,
        birth_date=body.birth_date,
        locale=body.locale,
        region_code=body.region_code,
    )
    return user_out(user)


@router.post("/auth/login", response_model=LoginOut)
def login(body: LoginIn, request: Request, response: Response, session: DbSession) -> LoginOut:
    user = service.check_credentials(
        session,
        email=body.email,
        password=body.password,
        limiter=request.app.state.limiter,
        client_ip=_client_ip(request),
    )
    cookie, web = service.create_web_session(session, user)
    settings = get_settings()
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=settings.session_days * 86400,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )
    return LoginOut(user=user_out(user), csrf_token=web.csrf_token, expires_at=web.expires_at)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: CurrentPrincipal, response: Response, session: DbSession) -> None:
    if principal.session_id:
        service.end_web_session(session, principal.session_id)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.post("/auth/token", status_code=status.HTTP_201_CREATED, response_model=TokenCreated)
def token_from_credentials(body: TokenWithCredentials, request: Request, session: DbSession) -> TokenCreated:
    """Exchange e-mail and password for a bearer token (for scripts and apps)."""
    user = service.check_credentials(
        session,
        email=body.email,
        password=body.password,
        limiter=request.app.state.limiter,
        client_ip=_client_ip(request),
    )
    principal = service.principal_for_user(session, user.id)
    plaintext, token = service.create_api_token(
        session,
        principal,
        name=body.name,
        scopes=body.scopes,
        merchant_id=body.merchant_id,
        expires_in_days=body.expires_in_days,
    )
    return TokenCreated(token=plaintext, **token_out(token).model_dump())


@router.get("/me", response_model=MeOut)
def me(principal: CurrentPrincipal, session: DbSession) -> MeOut:
    user = service.get_user(session, principal.user_id)
    names = service.organisation_names(session, list(principal.memberships))
    memberships = [
        MembershipOut(merchant_id=mid, merchant_name=names.get(mid, ""), role=role)
        for mid, role in sorted(principal.memberships.items())
    ]
    return MeOut(**user_out(user).model_dump(), memberships=memberships, scopes=sorted(principal.scopes))


@router.patch("/me", response_model=UserOut)
def update_me(body: ProfilePatch, principal: CurrentPrincipal, session: DbSession) -> UserOut:
    user = service.update_profile(session, principal, **body.model_dump(exclude_unset=True))
    return user_out(user)


@router.get("/auth/tokens", response_model=list[TokenOut])
def list_tokens(principal: CurrentPrincipal, session: DbSession) -> list[TokenOut]:
    return [token_out(t) for t in service.list_api_tokens(session, principal)]


@router.post("/auth/tokens", status_code=status.HTTP_201_CREATED, response_model=TokenCreated)
def create_token(body: TokenCreate, principal: CurrentPrincipal, session: DbSession) -> TokenCreated:
    plaintext, token = service.create_api_token(
        session,
        principal,
        name=body.name,
        scopes=body.scopes,
        merchant_id=body.merchant_id,
        expires_in_days=body.expires_in_days,
    )
    return TokenCreated(token=plaintext, **token_out(token).model_dump())


@router.delete("/auth/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: str, principal: CurrentPrincipal, session: DbSession) -> TokenOut:
    return token_out(service.revoke_api_token(session, principal, token_id))


def organisation_out(org: Organisation) -> OrganisationOut:
    return OrganisationOut.model_validate(org, from_attributes=True)


@router.post(
    "/merchants", status_code=status.HTTP_201_CREATED, response_model=OrganisationOut, tags=["merchants"]
)
def create_merchant(
    body: OrganisationCreate, principal: CurrentPrincipal, session: DbSession
) -> OrganisationOut:
    """Create a merchant organisation; the caller becomes its owner."""
    if principal.bound_merchant_id is not None:
        raise Forbidden("A merchant-bound token cannot create merchants.")
    return organisation_out(service.create_organisation(session, principal.user_id, body.name))


def member_out(m: Membership, u: User) -> MemberOut:
    return MemberOut(
        user_id=u.id, display_name=u.display_name, email=u.email, role=m.role, created_at=m.created_at
    )


@router.get("/merchants/{merchant_id}/members", response_model=list[MemberOut], tags=["merchants"])
def list_members(merchant_id: str, principal: CurrentPrincipal, session: DbSession) -> list[MemberOut]:
    return [member_out(m, u) for m, u in service.list_members(session, principal, merchant_id)]


@router.post(
    "/merchants/{merchant_id}/members",
    status_code=status.HTTP_201_CREATED,
    response_model=MemberOut,
    tags=["merchants"],
)
def add_member(
    merchant_id: str, body: MemberAdd, principal: CurrentPrincipal, session: DbSession
) -> MemberOut:
    return member_out(*service.add_member(session, principal, merchant_id, body.email, body.role))


@router.delete(
    "/merchants/{merchant_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["merchants"]
)
def remove_member(merchant_id: str, user_id: str, principal: CurrentPrincipal, session: DbSession) -> None:
    service.remove_member(session, principal, merchant_id, user_id)


@router.put("/admin/users/{user_id}/roles", response_model=UserOut, tags=["admin"])
def set_roles(user_id: str, body: RolesSet, principal: Admin, session: DbSession) -> UserOut:
    return user_out(service.set_roles(session, user_id, list(body.roles)))
