"""A small demo (the four demo accounts and three works) for tests that need a few profiles fast. `make run` seeds the
whole demo sector instead: marketplace.demo (`marketplace seed`)."""

from __future__ import annotations

import io
import math
import struct
import wave

from PIL import Image, ImageDraw
from sqlmodel import Session, select

from marketplace.accounts import profiles
from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import Account, AccountCreate, Role
from marketplace.catalog import upload
from marketplace.catalog.schemas import WorkCreate
from marketplace.core.config import Settings
from marketplace.core.db import utcnow
from marketplace.minting import service as minting_service
from marketplace.services import Services

DEMO_PASSWORD = "demo-password"
DEMO_ACCOUNTS = (
    ("admin@demo.lu", "Platform Admin", Role.admin),
    ("anna@demo.lu", "Anna Schmit Studio", Role.creator),
    ("luc@demo.lu", "Luc Weber", Role.creator),
    ("buyer@demo.lu", "Marie Buyer", Role.buyer),
)


def _poster(seed: int, size: int = 900) -> bytes:
    img = Image.new("RGB", (size, size), (250, 250, 250))
    draw = ImageDraw.Draw(img)
    palette = [(0, 163, 224), (237, 41, 57), (255, 255, 255), (27, 31, 36), (255, 196, 0)]
    for i in range(14):
        r = size // 2 - i * (size // 30)
        c = palette[(i + seed) % len(palette)]
        off = int(math.sin(i + seed) * size / 12)
        draw.ellipse((size // 2 - r + off, size // 2 - r, size // 2 + r + off, size // 2 + r), fill=c)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _tune(seconds: float = 2.0, rate: int = 22050) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        notes = [261.63, 329.63, 392.0, 523.25]
        frames = bytearray()
        for n in range(int(seconds * rate)):
            f = notes[int(n / rate * 4) % len(notes)]
            frames += struct.pack("<h", int(8000 * math.sin(2 * math.pi * f * n / rate)))
        w.writeframes(bytes(frames))
    return buf.getvalue()


DEMO_WORKS = (
    ("anna@demo.lu", "Moselle Circles", "A poster series on the rivers of Luxembourg.", "design", 4500, "CC-BY-4.0",
     750, lambda: _poster(1), "moselle.png"),
    ("anna@demo.lu", "Kirchberg at Dusk", "Limited digital print.", "photography", 12000, "personal-use", 1000,
     lambda: _poster(3), "kirchberg.png"),
    ("luc@demo.lu", "Schueberfouer Theme", "A short theme for the fair, free to use with credit.", "music", 900,
     "CC-BY-SA-4.0", 500, _tune, "theme.wav"),
)

DEMO_COVERS = {"theme.wav": lambda: _poster(5)}  # audio and video works carry a cover image

# the creators' profiles, so Find creators has disciplines, skills and places to search
DEMO_PROFILES = {
    "anna@demo.lu": {"bio": "Graphic design and photography studio in Esch.\nPosters, identities, prints.",
                     "location": "Esch-sur-Alzette", "links": ["https://anna.example.lu"],
                     "disciplines": ["design", "photography"],
                     "skills": ["typography", "poster design", "printing"]},
    "luc@demo.lu": {"bio": "Composer and sound designer.", "location": "Luxembourg City",
                    "disciplines": ["music", "film"], "skills": ["sound design", "composition", "foley"]},
}


def seed_demo(*, session: Session, services: Services, settings: Settings, mint: bool = True) -> bool:
    """Create demo accounts and works once. Returns False when the database already has accounts."""
    if session.exec(select(Account)).first() is not None:
        return False
    secret = settings.wallet_secret.get_secret_value()
    accounts: dict[str, Account] = {}
    for email, name, role in DEMO_ACCOUNTS:
        accounts[email] = accounts_service.register(
            session=session,
            account_in=AccountCreate(email=email, password=DEMO_PASSWORD, display_name=name, role=role),
            wallet_secret=secret,
            allow_admin=True,
            # the demo's addresses are verified from the start: their notice mails show in the mail sink
            on_created=lambda _session, account: setattr(account, "email_verified_at", utcnow()),
        )
    for email, fields in DEMO_PROFILES.items():
        profiles.update_profile(session=session, account=accounts[email], profile_in=profiles.ProfileIn(**fields))
    for email, title, desc, discipline, price, lic, bps, make, filename in DEMO_WORKS:
        creator = accounts[email]
        cover = DEMO_COVERS.get(filename)
        work = upload.upload_work(
            session=session, creator=creator,
            work_in=WorkCreate(title=title, description=desc, discipline=discipline, price_cents=price,
                               license=lic, royalty_bps=bps),
            source=io.BytesIO(make()), filename=filename, staging_dir=settings.media_dir / "staging",
            max_bytes=settings.max_upload_bytes, thumbnail_px=settings.thumbnail_px, ipfs=services.ipfs,
            cover=io.BytesIO(cover()) if cover else None, max_cover_bytes=settings.max_cover_bytes,
        )
        if mint and services.chain is not None:
            minting_service.request_mint(session=session, work=work, creator=creator, ipfs=services.ipfs,
                               chain=services.chain, public_base_url=settings.public_base_url)
    return True
