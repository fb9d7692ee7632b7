"""Demo step: shoppers in every launch region, creators, merchant owners and staff, a moderator, an admin."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert

from etalage.accounts.models import Membership, Organisation, Pseudonym, User
from etalage.accounts.service import hash_password
from etalage.db import new_id, utcnow
from etalage.demo import DEMO_PASSWORD, DemoContext
from etalage.demo.names import FIRST_NAMES, LAST_NAMES, SHOP_WORDS_A, SHOP_WORDS_B

DEMO_REGIONS = ["BE", "ES", "US", "NL", "FR", "DE", "GB"]
REGION_WEIGHTS = [22, 20, 24, 10, 9, 9, 6]
LOCALE_OF = {"BE": "nl", "NL": "nl", "FR": "fr", "ES": "es", "DE": "de", "US": "en", "GB": "en", "ID": "en"}


def _person(ctx: DemoContext, region: str) -> tuple[str, str]:
    first = ctx.rng.choice(FIRST_NAMES[region])
    last = ctx.rng.choice(LAST_NAMES[region])
    return first, last


def build_accounts(ctx: DemoContext) -> None:
    rng, scale = ctx.rng, ctx.scale
    pw_hash = hash_password(DEMO_PASSWORD)  # one hash for every demo account keeps the demo fast
    now = utcnow()
    users: list[dict] = []
    task = ctx.task("Accounts", scale["shoppers"] + scale["creators"] + scale["merchants"] * 2 + 2)

    def add(email: str, name: str, roles: list[str], region: str, birth: date | None) -> str:
        uid = new_id("usr")
        users.append(
            dict(
                id=uid,
                email=email,
                password_hash=pw_hash,
                display_name=name,
                roles=roles,
                birth_date=birth,
                locale=LOCALE_OF[region],
                region_code=region,
                created_at=now,
            )
        )
        return uid

    admin = add("admin@etalage.test", "Ada Admin", ["admin", "shopper"], "BE", date(1985, 3, 2))
    moderator = add(
        "moderator@etalage.test", "Mo Moderator", ["moderator", "shopper"], "NL", date(1990, 6, 1)
    )
    shoppers = []
    for i in range(scale["shoppers"]):
        region = rng.choices(DEMO_REGIONS, REGION_WEIGHTS)[0]
        first, last = _person(ctx, region)
        # A few minors, so that age rules (e.g. Belgium's) have someone to apply to.
        year = rng.randint(2009, 2011) if i % 50 == 7 else rng.randint(1955, 2005)
        birth = date(year, rng.randint(1, 12), rng.randint(1, 28))
        email = (
            "shopper@etalage.test" if i == 0 else f"{first}.{last}.{i}@example.com".lower().replace(" ", "")
        )
        shoppers.append(add(email, f"{first} {last}", ["shopper"], "BE" if i == 0 else region, birth))
    creators = []
    for i in range(scale["creators"]):
        region = rng.choices(DEMO_REGIONS, REGION_WEIGHTS)[0]
        first, last = _person(ctx, region)
        handle = f"{first}{last[:3]}".lower().replace(" ", "")
        email = "creator@etalage.test" if i == 0 else f"{handle}.{i}@creators.example.com"
        creators.append(add(email, f"@{handle}", ["creator", "shopper"], region, date(1995, 1, 1)))
    owners = []
    orgs = []
    for i in range(scale["merchants"]):
        region = DEMO_REGIONS[i % len(DEMO_REGIONS)]
        first, last = _person(ctx, region)
        email = "merchant@etalage.test" if i == 0 else f"owner{i}@shops.example.com"
        owners.append(add(email, f"{first} {last}", ["shopper"], region, date(1980, 1, 1)))
        orgs.append(
            dict(id=new_id("mch"), name=f"{SHOP_WORDS_A[i % 10]} {SHOP_WORDS_B[i % 20]}", created_at=now)
        )
    staff = [
        add(f"staff{i}@shops.example.com", f"Staff {i}", ["shopper"], DEMO_REGIONS[i % 7], None)
        for i in range(scale["merchants"])
    ]

    with ctx.db.session() as s:
        for chunk in range(0, len(users), 1000):
            s.execute(insert(User), users[chunk : chunk + 1000])
            ctx.progress.advance(task, len(users[chunk : chunk + 1000]))
        s.execute(
            insert(Pseudonym), [dict(user_id=u["id"], key=new_id("psn"), created_at=now) for u in users]
        )
        s.execute(insert(Organisation), orgs)
        members = [
            dict(organisation_id=o["id"], user_id=owners[i], role="owner", created_at=now)
            for i, o in enumerate(orgs)
        ]
        members += [
            dict(organisation_id=o["id"], user_id=staff[i], role="staff", created_at=now)
            for i, o in enumerate(orgs)
        ]
        s.execute(insert(Membership), members)

    ctx.data.update(
        admin=admin,
        moderator=moderator,
        shoppers=shoppers,
        creators=creators,
        merchants=[o["id"] for o in orgs],
        merchant_owners=owners,
        merchant_staff=staff,
        user_regions={u["id"]: u["region_code"] for u in users},
    )
    ctx.counts.update(users=len(users), shoppers=len(shoppers), creators=len(creators), merchants=len(orgs))


STEP = (10, "accounts", build_accounts)
