"""What compliance knows of a target, always through the owning domain's service: whether it exists, who may
see it (a notice can only be about what the notifier can see), who is affected by a decision, a preview for
the moderator, and how a decision is enacted and, on a successful appeal, reversed.

    video         content (videos.moderate: remove → removed, restrict_visibility → rejected; restore)
    product       catalog (moderate_product: block / unblock to the status it had)
    comment       content (comments.moderate: remove / restore)
    live_message  content (live.remove_message / restore_message; ban_from_live mutes the author in the room)
    live_room     content (live.end: the stream stops; an ended room cannot go live again)
    merchant      merchants (decide: suspend / reinstate)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from etalage.accounts import service as accounts
from etalage.accounts.authz import Principal
from etalage.core.errors import Conflict, InvalidInput, NotFound

ALLOWED: dict[str, tuple[str, ...]] = {
    "video": ("remove", "restrict_visibility", "no_action", "suspend_merchant"),
    "product": ("remove", "no_action", "suspend_merchant"),
    "comment": ("remove", "no_action"),
    "live_message": ("remove", "ban_from_live", "no_action"),
    "live_room": ("remove", "no_action", "suspend_merchant"),
    "merchant": ("suspend_merchant", "no_action"),
}
DEFAULT_BAN_DAYS = 30


@dataclass
class TargetInfo:
    kind: str
    id: str
    state: str | None
    public: bool  # anyone may see it now
    author_id: str | None = None  # the user who posted it (affected by a decision on it)
    merchant_id: str | None = None
    title: str | None = None
    text: str | None = None
    url: str | None = None
    poster_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _video(session: Session, vid: str) -> TargetInfo | None:
    from etalage.content import service as content

    v = content.get_videos(session, [vid]).get(vid)
    if v is None:
        return None
    return TargetInfo("video", v.id, v.state, v.state == "published", author_id=v.creator_id,
                      merchant_id=v.merchant_id, text=v.caption, url=f"/api/v1/videos/{v.id}",
                      poster_url=v.poster_url, extra={"product_ids": list(v.product_ids)})  # fmt: skip


def _product(session: Session, pid: str) -> TargetInfo | None:
    from etalage.catalog import service as catalog

    found = catalog.get_products(session, [pid])
    if not found:
        return None
    p = found[0]
    return TargetInfo("product", p.id, p.status, p.status == "active", merchant_id=p.merchant_id,
                      title=p.title, text=p.description[:500], url=f"/api/v1/products/{p.id}",
                      extra={"brand": p.brand})  # fmt: skip


def _subject(session: Session, kind: str, sid: str) -> TargetInfo | None:
    from etalage.content import service as content

    s = content.moderation_subject(session, kind, sid)
    if s is None:
        return None
    if kind == "comment":
        public = s["state"] == "visible" and s["video_state"] == "published"
        extra = {"video_id": s["video_id"]}
    elif kind == "live_message":
        public, extra = s["state"] == "visible", {"room_id": s["room_id"]}
    else:
        public, extra = True, {}
    title = s["text"] if kind == "live_room" else None
    text = None if kind == "live_room" else s["text"]
    return TargetInfo(kind, sid, s["state"], public, author_id=s["author_id"], merchant_id=s["merchant_id"],
                      title=title, text=text, extra=extra)  # fmt: skip


def _merchant(session: Session, mid: str) -> TargetInfo | None:
    from etalage.merchants import service as merchants

    names = accounts.organisation_names(session, [mid])
    if mid not in names:
        return None
    status = merchants.trader_status(session, mid)
    return TargetInfo("merchant", mid, status, status in ("verified", "suspended"), merchant_id=mid,
                      title=names[mid], url=f"/api/v1/merchants/{mid}/trader")  # fmt: skip


def resolve(session: Session, kind: str, target_id: str) -> TargetInfo | None:
    """The target in any state (the moderator's view), or None if it does not exist."""
    if kind == "video":
        return _video(session, target_id)
    if kind == "product":
        return _product(session, target_id)
    if kind in ("comment", "live_message", "live_room"):
        return _subject(session, kind, target_id)
    if kind == "merchant":
        return _merchant(session, target_id)
    return None


def can_see(principal: Principal | None, info: TargetInfo) -> bool:
    """Whether ``principal`` can see the target (a notice is only accepted about what its notifier sees)."""
    if info.public:
        return True
    if principal is None:
        return False
    if principal.has_scope("moderation"):
        return True
    if info.author_id is not None and info.author_id == principal.user_id:
        return True
    return info.merchant_id is not None and info.merchant_id in principal.memberships


def visible(session: Session, principal: Principal | None, kind: str, target_id: str) -> TargetInfo:
    info = resolve(session, kind, target_id)
    if info is None or not can_see(principal, info):
        raise NotFound(f"No {kind.replace('_', ' ')} {target_id}.")
    return info


def affected(info: TargetInfo, action: str) -> tuple[str | None, str | None]:
    """(user, merchant) whom a decision affects: they receive its statement of reasons and may appeal."""
    if info.kind in ("product", "merchant") or action == "suspend_merchant":
        return (info.author_id if info.kind != "merchant" else None), info.merchant_id
    return info.author_id, info.merchant_id


def check_action(info: TargetInfo, action: str) -> None:
    allowed = ALLOWED[info.kind]
    if action not in allowed:
        raise InvalidInput(
            f"A {info.kind.replace('_', ' ')} cannot be decided with '{action}'.",
            allowed_actions=list(allowed),
            errors=[{"loc": "action", "message": f"one of {', '.join(allowed)}", "type": "enum"}],
        )
    if action == "suspend_merchant" and info.merchant_id is None:
        raise InvalidInput("This target belongs to no merchant; there is no merchant to suspend.")


# --- enacting and reversing -------------------------------------------------------------------------------


def enact(session: Session, moderator: Principal, info: TargetInfo, action: str, reason: str,
          duration_days: int | None) -> dict[str, Any]:  # fmt: skip
    """Carry out ``action`` through the owning domain, in the caller's transaction. Returns what was done
    and the state before, which a reversal puts back."""
    if action == "no_action":
        return {"domain": None}
    if action == "suspend_merchant":
        return _suspend(session, moderator, info.merchant_id or "", reason)
    if info.kind == "video":
        from etalage.content import videos

        to_action, to_state = (
            ("reject", "rejected") if action == "restrict_visibility" else ("remove", "removed")
        )
        before = info.state
        if before in ("removed", "rejected"):
            return {"domain": "content", "before": before, "after": before, "already": True}
        videos.moderate(session, moderator, info.id, to_action, reason)
        return {"domain": "content", "before": before, "after": to_state}
    if info.kind == "product":
        from etalage.catalog import service as catalog

        _product_row, before = catalog.moderate_product(session, moderator, info.id, "block")
        return {"domain": "catalog", "before": before, "after": "blocked"}
    if info.kind == "comment":
        from etalage.content import comments

        if info.state != "visible":
            return {"domain": "content", "before": info.state, "after": info.state, "already": True}
        comments.moderate(session, moderator, info.id, "remove", reason)
        return {"domain": "content", "before": "visible", "after": "removed"}
    if info.kind == "live_message":
        return _live_message(session, moderator, info, action, reason, duration_days)
    if info.kind == "live_room":
        from etalage.content import live

        before = info.state
        if before != "ended":
            live.end(session, moderator, info.id)
        return {"domain": "content", "before": before, "after": "ended"}
    raise InvalidInput(f"Nothing can enact {action} on a {info.kind}.")  # pragma: no cover - ALLOWED says


def _suspend(session: Session, moderator: Principal, merchant_id: str, reason: str) -> dict[str, Any]:
    from etalage.merchants import service as merchants

    before = merchants.trader_status(session, merchant_id)
    if before == "suspended":
        return {"domain": "merchants", "before": before, "after": before, "already": True}
    if before not in ("submitted", "verified"):
        raise Conflict(
            f"This merchant's trader status is {before}: it cannot sell, so there is nothing to suspend; "
            "decide on the content instead.",
            trader_status=before,
        )
    merchants.decide(session, moderator, merchant_id, "suspend", reason)
    return {"domain": "merchants", "merchant_id": merchant_id, "before": before, "after": "suspended"}


def _live_message(session: Session, moderator: Principal, info: TargetInfo, action: str, reason: str,
                  duration_days: int | None) -> dict[str, Any]:  # fmt: skip
    from etalage.content import live

    room_id = info.extra["room_id"]
    done: dict[str, Any] = {"domain": "content", "room_id": room_id, "before": info.state}
    if info.state == "visible":
        live.remove_message(session, moderator, room_id, info.id, reason)
    done["after"] = "removed"
    if action == "ban_from_live" and info.author_id:
        days = duration_days or DEFAULT_BAN_DAYS
        live.mute(session, moderator, room_id, info.author_id, days * 24 * 60, reason)
        done["muted_user_id"], done["muted_days"] = info.author_id, days
    return done


def reverse(session: Session, moderator: Principal, kind: str, target_id: str, action: str,
            enacted: dict[str, Any], reason: str) -> dict[str, Any]:  # fmt: skip
    """Undo an enacted decision after a successful appeal, through the owning domain. Returns what was put
    back (``restored: false`` with a note when the target has moved on and cannot be restored)."""
    if action == "no_action" or enacted.get("already"):
        return {"restored": False, "note": "the decision changed nothing to undo"}
    if action == "suspend_merchant":
        return _reinstate(session, moderator, enacted.get("merchant_id") or target_id, enacted, reason)
    info = resolve(session, kind, target_id)
    if info is None:
        return {"restored": False, "note": "the target no longer exists"}
    before, after = enacted.get("before"), enacted.get("after")
    if info.state != after:
        return {"restored": False, "note": f"the target is {info.state} now, no longer {after}"}
    if kind == "video":
        from etalage.content import videos

        if before != "published":
            return {"restored": False, "note": f"it was {before}, not published, before the decision"}
        videos.moderate(session, moderator, target_id, "restore", reason)
        return {"restored": True, "state": "published"}
    if kind == "product":
        from etalage.catalog import service as catalog

        product, _ = catalog.moderate_product(
            session, moderator, target_id, "unblock", restore_status=before or "draft"
        )
        return {"restored": True, "state": product.status}
    if kind == "comment":
        from etalage.content import comments

        comments.moderate(session, moderator, target_id, "restore", reason)
        return {"restored": True, "state": "visible"}
    if kind == "live_message":
        return _restore_message(session, moderator, info, enacted, reason)
    return {"restored": False, "note": "an ended live room cannot go live again; its host may open a new one"}


def _reinstate(session: Session, moderator: Principal, merchant_id: str, enacted: dict[str, Any],
               reason: str) -> dict[str, Any]:  # fmt: skip
    from etalage.merchants import service as merchants

    now = merchants.trader_status(session, merchant_id)
    if now != "suspended":
        return {"restored": False, "note": f"the trader is {now} now, no longer suspended"}
    if enacted.get("before") != "verified":
        return {"restored": False, "note": "the trader was not verified before; it must be reviewed again"}
    merchants.decide(session, moderator, merchant_id, "reinstate", reason)
    return {"restored": True, "state": "verified"}


def _restore_message(session: Session, moderator: Principal, info: TargetInfo, enacted: dict[str, Any],
                     reason: str) -> dict[str, Any]:  # fmt: skip
    from etalage.content import live

    room_id = enacted.get("room_id") or info.extra["room_id"]
    out: dict[str, Any] = {"restored": True}
    if enacted.get("before") == "visible":
        live.restore_message(session, moderator, room_id, info.id, reason)
        out["state"] = "visible"
    if enacted.get("muted_user_id"):
        try:
            live.unmute(session, moderator, room_id, enacted["muted_user_id"], reason)
            out["unmuted_user_id"] = enacted["muted_user_id"]
        except NotFound:  # the mute already ended or was lifted
            pass
    return out


def previews(session: Session, infos: list[TargetInfo]) -> dict[tuple[str, str], dict[str, Any]]:
    """Previews for a page of targets, with the authors' display names and the merchants' names."""
    names = accounts.display_names(session, sorted({i.author_id for i in infos if i.author_id}))
    shops = accounts.organisation_names(session, sorted({i.merchant_id for i in infos if i.merchant_id}))
    out = {}
    for i in infos:
        out[(i.kind, i.id)] = {
            "kind": i.kind, "id": i.id, "exists": True, "state": i.state, "title": i.title, "text": i.text,
            "author_id": i.author_id, "author_name": names.get(i.author_id or ""),
            "merchant_id": i.merchant_id, "merchant_name": shops.get(i.merchant_id or ""),
            "url": i.url, "poster_url": i.poster_url, "extra": i.extra,
        }  # fmt: skip
    return out
