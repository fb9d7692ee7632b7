"""Authorisation, in one place: who is calling, and what they may touch.

Rules:
- A token carries scopes; a browser session carries every scope the user's roles allow.
- A merchant's owner and staff see and change only that merchant's data; a token bound to one merchant
  reaches only that merchant. Another merchant's resources answer 404, so ids do not leak existence.
- A shopper sees only their own data.
"""

from __future__ import annotations

from etalage.core.auth import Principal
from etalage.core.errors import Forbidden, NotFound

__all__ = ["Principal", "SCOPES", "require_merchant", "require_role", "require_scope", "require_self", "scopes_for"]

# scope -> roles that may hold it ("*member" = member of at least one merchant)
SCOPES: dict[str, tuple[str, ...]] = {
    "profile": ("shopper", "creator", "moderator", "admin", "*member"),
    "shop": ("shopper", "creator", "moderator", "admin"),
    "events:write": ("shopper", "creator", "moderator", "admin"),
    "feed:read": ("shopper", "creator", "moderator", "admin"),
    "content:write": ("creator", "*member", "admin"),
    "merchant:read": ("*member", "admin"),
    "merchant:write": ("*member", "admin"),
    "moderation": ("moderator", "admin"),
    "admin": ("admin",),
}


def scopes_for(roles: frozenset[str], is_member: bool) -> frozenset[str]:
    held = set(roles) | ({"*member"} if is_member else set())
    return frozenset(scope for scope, allowed in SCOPES.items() if held.intersection(allowed))


def require_scope(principal: Principal, scope: str) -> None:
    if not principal.has_scope(scope):
        raise Forbidden(f"This credential lacks the '{scope}' scope.", required_scope=scope)


def require_role(principal: Principal, role: str) -> None:
    if role not in principal.roles and not principal.is_admin:
        raise Forbidden(f"This action needs the '{role}' role.", required_role=role)


def require_merchant(
    principal: Principal, merchant_id: str, *, write: bool = False, owner: bool = False
) -> str:
    """Returns the caller's role in the merchant ('owner', 'staff' or 'admin')."""
    require_scope(principal, "merchant:write" if write else "merchant:read")
    if principal.bound_merchant_id is not None and principal.bound_merchant_id != merchant_id:
        raise NotFound(f"No merchant {merchant_id} is reachable with this token.")
    role = principal.memberships.get(merchant_id)
    if role is None:
        if principal.is_admin:
            return "admin"
        raise NotFound(f"No merchant {merchant_id} is reachable with this credential.")
    if owner and role != "owner":
        raise Forbidden("Only the merchant's owner may do this.")
    return role


def require_self(principal: Principal, user_id: str) -> None:
    if principal.user_id != user_id and not principal.is_admin:
        raise NotFound(f"No user {user_id} is reachable with this credential.")


def merchant_ids(principal: Principal) -> list[str]:
    """The merchants this credential may act for."""
    if principal.bound_merchant_id is not None:
        return [principal.bound_merchant_id] if principal.bound_merchant_id in principal.memberships else []
    return sorted(principal.memberships)
