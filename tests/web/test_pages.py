"""The pages without a browser: sessions, CSRF, CSP, languages, validation, escaping, drafts, live mint status."""

from __future__ import annotations

import re
import time

import pytest

from tests.conftest import Api, png_bytes
from tests.web.helpers import WebUser, csrf_from

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]

UPLOAD = {"title": "Moselle Light", "description": "Dawn on the river.", "discipline": "photography",
          "license": "CC-BY-4.0", "price": "25,50", "royalty": "7.5"}


@pytest.fixture
def web(client):
    return lambda: WebUser(client)


def upload(user: WebUser, *, content: bytes | None = None, filename: str = "moselle.png", json: bool = False,
           **fields):
    data = {**UPLOAD, **fields}
    headers = {"Accept": "application/json"} if json else {}
    return user.post_form("/studio", "/studio/works", data,
                          files={"file": (filename, content if content is not None else png_bytes((600, 400)),
                                          "image/png")}, headers=headers)


def test_pages_in_english_french_or_german_by_browser_or_switch(web):
    user = web()
    en = user.get("/about")
    assert en.status_code == 200 and '<html lang="en">' in en.text and "What is IPFS?" in en.text
    assert "platform fee of 10 %." in en.text  # a placeholder and a literal percent sign in one {% trans %} block
    fr = user.get("/about", headers={"Accept-Language": "fr-LU,fr;q=0.9"})
    assert '<html lang="fr">' in fr.text and "Qu'est-ce qu'IPFS ?" in fr.text
    de = user.get("/about", headers={"Accept-Language": "de-LU,de;q=0.9,en;q=0.5"})
    assert '<html lang="de">' in de.text and "Was ist IPFS?" in de.text and "Plattformgebühr von 10 %." in de.text
    # the switch offers the three languages, each named in itself
    for code, name in (("fr", "Français"), ("de", "Deutsch")):
        assert f'href="/lang/{code}?next=/about" lang="{code}" hreflang="{code}" title="{name}"' in en.text
    switched = user.get("/lang/de?next=/about")
    assert switched.status_code == 303 and switched.headers["location"] == "/about"
    assert '<html lang="de">' in user.get("/about").text  # the cookie wins over Accept-Language (none sent)
    assert '<html lang="de">' in user.get("/about", headers={"Accept-Language": "fr"}).text
    user.get("/lang/fr?next=/about")
    assert '<html lang="fr">' in user.get("/about").text
    assert user.get("/lang/fr?next=//evil.example").headers["location"] == "/"  # no open redirect
    assert user.get("/lang/lb").status_code == 404


def test_gallery_counts_works_with_the_plural_of_each_language(web, api):
    user = web()
    creator = api.register(role="creator")
    for title in ("Moselle Light", "Kirchberg Glass"):
        work = api.upload(creator, title=title).json()
        api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"])
        api.wait_for_status(work["id"], "minted")

    def count(accept: str, query: str = "") -> str:
        page = user.get(f"/{query}", headers={"Accept-Language": accept}).text
        return re.search(r'<p class="count">([^<]*?)(?: · <a|</p>)', page).group(1)  # Clear filters may follow

    assert [count("en"), count("en", "?q=Kirchberg"), count("en", "?q=nothing-like-this")] == \
        ["2 works", "1 work", "0 works"]
    assert [count("fr"), count("fr", "?q=Kirchberg"), count("fr", "?q=nothing-like-this")] == \
        ["2 œuvres", "1 œuvre", "0 œuvre"]
    assert [count("de"), count("de", "?q=Kirchberg"), count("de", "?q=nothing-like-this")] == \
        ["2 Werke", "1 Werk", "0 Werke"]
    de = user.get("/", headers={"Accept-Language": "de"}).text
    assert "Digitale Werke der Luxemburger Kreativwirtschaft" in de and ">Fotografie</option>" in de
    assert re.search(r'<span class="price">\d+,\d\d\xa0€</span>', de)  # euros as Babel writes them for de_LU


def test_pages_carry_a_strict_csp_and_no_inline_script_or_style(web):
    user = web()
    for path in ("/", "/about", "/signin", "/signup"):
        r = user.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text), path  # every script is a file
        assert not re.search(r"\son[a-z]+=", r.text), path  # no inline event handlers
        assert " style=" not in r.text and "<style" not in r.text, path
    # JSON may load and run nothing either, and is never framed
    assert user.get("/api/health").headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_form_posts_need_the_csrf_token(web):
    user = web()
    user.get("/signin")  # sets the CSRF cookie
    refused = user.client.post("/signin", data={"email": "a@example.lu", "password": "x" * 10})
    assert refused.status_code == 403 and "Reload the page" in refused.text
    wrong = user.client.post("/signin", data={"email": "a@example.lu", "password": "x" * 10, "csrf_token": "00"})
    assert wrong.status_code == 403
    page = user.get("/signin")
    cross = user.client.post("/signin", data={"csrf_token": csrf_from(page.text)},
                             headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    # another browser's token is useless with this browser's cookie
    other = web()
    token = csrf_from(other.get("/signin").text)
    assert user.client.post("/signup", data={"csrf_token": token}).status_code == 403


def test_sign_up_in_and_out_with_a_cookie_session(web):
    user = web()
    email = user.sign_up(role="creator", name="Anna Schmit")
    cookie = user.client.cookies.get("mp_session")
    assert cookie
    studio = user.get("/studio")
    assert studio.status_code == 200 and "Anna Schmit" in studio.text and "Add a work" in studio.text
    # the session cookie is not an API credential: the JSON API still wants a bearer token
    assert user.client.get("/api/me").status_code == 401
    assert user.client.get("/api/me", headers={"Authorization": f"Bearer {cookie}"}).status_code == 200
    out = user.post_form("/studio", "/signout")
    assert out.status_code == 303 and "mp_session" not in user.client.cookies
    assert user.get("/studio").headers["location"] == "/signin?next=/studio"
    # the signed-out token is dead, not just forgotten: a copy of the old cookie gets nowhere
    thief = web()
    thief.client.cookies.set("mp_session", cookie)
    assert thief.get("/studio").headers["location"] == "/signin?next=/studio"
    assert user.client.get("/api/me", headers={"Authorization": f"Bearer {cookie}"}).status_code == 401

    bad = user.post_form("/signin", "/signin", {"email": email, "password": "wrong password"})
    assert bad.status_code == 400 and "Incorrect e-mail or password" in bad.text
    ok = user.post_form("/signin", "/signin", {"email": email, "password": "correct horse 1", "next": "/about"})
    assert ok.status_code == 303 and ok.headers["location"] == "/about"
    evil = user.post_form("/signin", "/signin", {"email": email, "password": "correct horse 1",
                                                 "next": "https://evil.example/"})
    assert evil.headers["location"] == "/studio"


def test_sign_up_errors_are_shown_next_to_the_fields(web):
    user = web()
    r = user.post_form("/signup", "/signup", {"email": "not-an-email", "password": "short", "display_name": "",
                                              "role": "creator"})
    assert r.status_code == 400
    assert 'id="email-error">Enter a valid e-mail address.' in r.text
    assert 'id="password-error">The password needs at least 8 characters.' in r.text
    assert 'id="display_name-error">Please fill in this field.' in r.text
    email = user.sign_up(role="buyer", name="Marie")
    again = web().post_form("/signup", "/signup", {"email": email, "password": "correct horse 1",
                                                   "display_name": "Marie", "role": "buyer"})
    assert again.status_code == 400 and "already exists" in again.text


def test_upload_is_validated_on_the_server_with_messages_by_the_fields(web):
    user = web()
    user.sign_up(role="creator")
    r = user.post_form("/studio", "/studio/works", {"title": "", "discipline": "poetry", "license": "",
                                                    "price": "12.345", "royalty": "30"})
    assert r.status_code == 422
    for field, text in (("title", "Please fill in this field."), ("discipline", "Choose one of the options."),
                        ("license", "Choose one of the options."), ("price", "Enter a price in euros"),
                        ("royalty", "Enter a royalty between 0 and 25"), ("file", "Choose a file to upload.")):
        assert re.search(rf'id="{field}-error"\s*>{re.escape(text)}', r.text), field
    as_json = user.post_form("/studio", "/studio/works", {"price": "0"}, headers={"Accept": "application/json"})
    assert as_json.status_code == 422
    errors = as_json.json()["errors"]
    assert errors["price"].startswith("The price must be between") and "file" in errors and "form" in errors
    # the bytes decide: an HTML file named .png is refused, next to the file field, in French too
    refused = upload(user, content=b"<html><script>alert(1)</script></html>", filename="x.png", json=True)
    assert refused.status_code == 422 and "not accepted" in refused.json()["errors"]["file"]
    fr = user.post_form("/studio", "/studio/works", {"title": ""}, headers={"Accept": "application/json",
                                                                           "Accept-Language": "fr"})
    assert fr.json()["errors"]["title"] == "Veuillez remplir ce champ."


def test_user_text_is_escaped_everywhere(web):
    user = web()
    user.sign_up(role="creator", name='<img src=x onerror="alert(1)">')
    r = upload(user, json=True, title="<script>alert('t')</script>", description="<b>bold</b>\n\"quoted\"")
    assert r.status_code == 201, r.text
    work_id = r.json()["id"]
    page = user.get(f"/works/{work_id}").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    assert '<img src=x onerror' not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page


def test_drafts_are_private_until_minted_and_unknown_pages_are_pages(web):
    creator = web()
    creator.sign_up(role="creator")
    work_id = upload(creator, json=True).json()["id"]
    assert creator.get(f"/works/{work_id}").status_code == 200
    stranger = web()
    missing = stranger.get(f"/works/{work_id}")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert "text/html" in missing.headers["content-type"]
    assert "Moselle Light" not in stranger.get("/").text
    assert stranger.get("/tokens/0x1234").status_code == 404
    assert stranger.get("/tokens/not-a-number").status_code == 404
    assert stranger.get("/nowhere").status_code == 404
    assert "Page not found" in stranger.get("/works/not-a-number").text
    assert stranger.client.get("/api/works/999999").json()["code"] == "not_found"  # the API keeps JSON


def test_gallery_filters_and_empty_state(web, api):
    creator = api.register(role="creator", name="Luc Weber")
    for title, discipline, lic, price in (("Schueberfouer Theme", "music", "CC-BY-SA-4.0", 900),
                                          ("Kirchberg at Dusk", "photography", "personal-use", 12000)):
        work = api.upload(creator, title=title, discipline=discipline, license=lic, price_cents=price).json()
        assert api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"]).status_code == 202
    user = web()
    page = user.get("/").text
    assert "Schueberfouer Theme" in page and "Kirchberg at Dusk" in page and "2 works" in page
    music = user.get("/?discipline=music").text
    assert "Schueberfouer Theme" in music and "Kirchberg at Dusk" not in music
    lic = user.get("/?license=personal-use&sort=price_desc").text
    assert "Kirchberg at Dusk" in lic and "Schueberfouer Theme" not in lic
    cheap = user.get("/?max_price=10").text
    assert "Schueberfouer Theme" in cheap and "Kirchberg at Dusk" not in cheap
    by_name = user.get("/?creator=weber&q=dusk").text
    assert "Kirchberg at Dusk" in by_name and "1 work" in by_name
    lenient = user.get("/?discipline=nonsense&page=abc&min_price=x")  # never a 500: what is ignored leaves the
    assert lenient.status_code == 302 and lenient.headers["location"] == "/"  # address, which shows what applies
    empty = user.get("/?q=zzzz-nothing").text
    assert "No works match" in empty and "Clear filters" in empty


def test_mint_button_status_updates_until_minted(web, api):
    user = web()
    user.sign_up(role="creator")
    work_id = upload(user, json=True).json()["id"]
    studio = user.get("/studio").text
    assert f'hx-post="/studio/works/{work_id}/mint"' in studio
    token = csrf_from(studio)
    r = user.client.post(f"/studio/works/{work_id}/mint", headers={"HX-Request": "true", "X-CSRF-Token": token})
    assert r.status_code == 200
    assert 'data-status="minting"' in r.text and 'hx-trigger="every 1s"' in r.text
    deadline = time.monotonic() + 30
    while True:
        fragment = user.get(f"/studio/works/{work_id}/status", headers={"HX-Request": "true"}).text
        if 'data-status="minted"' in fragment or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    work = api.client.get(f"/api/works/{work_id}").json()
    assert work["status"] == "minted"
    assert f'data-token-id="{work["token_id"]}"' in fragment and "hx-trigger" not in fragment
    assert work["mint_tx_hash"][:10] in fragment
    # the certificate is public
    cert = web().get(f"/tokens/{work['token_id_hex']}")
    assert cert.status_code == 200 and work["contract_address"] in cert.text and work["mint_tx_hash"] in cert.text
    assert f'href="/ipfs/{work["media_cid"]}"' in cert.text and f'href="/ipfs/{work["metadata_cid"]}"' in cert.text
    assert web().get(f"/tokens/{work['token_id']}").status_code == 200  # decimal ids work too


def test_price_edit_from_the_studio(web, api):
    user = web()
    user.sign_up(role="creator")
    work_id = upload(user, json=True).json()["id"]
    token = csrf_from(user.get("/studio").text)
    bad = user.client.post(f"/studio/works/{work_id}/price", data={"price": "abc", "csrf_token": token},
                           headers={"HX-Request": "true"})
    assert "Enter a price in euros" in bad.text and 'aria-invalid="true"' in bad.text
    ok = user.client.post(f"/studio/works/{work_id}/price", data={"price": "40", "csrf_token": token},
                          headers={"HX-Request": "true"})
    assert "Price saved." in ok.text
    assert user.get(f"/works/{work_id}").status_code == 200
    assert api.client.get(f"/api/works/{work_id}").status_code == 404  # a draft: not for anonymous callers
    from sqlmodel import Session

    from marketplace.catalog.models import Work
    from marketplace.core import db
    with Session(db.get_engine()) as session:
        assert session.get(Work, work_id).price_cents == 4000
    other = web()
    other.sign_up(role="creator")
    token = csrf_from(other.get("/studio").text)
    assert other.client.post(f"/studio/works/{work_id}/price", data={"price": "1", "csrf_token": token}
                             ).status_code == 404  # another creator's draft: as if it did not exist


def test_purchase_page_says_what_happened_in_each_state(make_client):
    """The page for each state, from purchase rows written here. No workers run: the chain watcher would rightly
    send a "delivered" purchase whose transfer is not on chain back to delivery."""
    from sqlmodel import Session

    from marketplace.core import db
    from marketplace.payments.models import Purchase

    quiet = make_client(run_mint_worker=False, run_delivery_worker=False)
    api = Api(quiet)
    web = lambda: WebUser(quiet)  # noqa: E731

    creator = api.register(role="creator")
    user = web()
    buyer_email = user.sign_up(role="buyer", name="Lena Weber")
    from sqlmodel import select

    from marketplace.accounts.models import Account
    with Session(db.get_engine()) as session:
        account = session.exec(select(Account).where(Account.email == buyer_email)).one()
        buyer = {"id": account.id, "wallet_address": account.wallet_address}
    expected = {
        "pending": "Waiting for the payment to be confirmed",
        "paid": "Payment received. Transferring the token to your wallet",
        "delivered": "Delivered: the token is in your wallet.",
        "refunded": "Refunded: the payment was returned to your card.",
        "failed": "The payment failed. You were not charged.",
        "expired": "The checkout expired or was cancelled. You were not charged.",
    }
    ids = {}
    with Session(db.get_engine()) as session:
        for status in expected:  # one work each: a work has at most one active purchase
            work_id = api.upload(creator, title=f"Kirchberg at Dusk ({status})").json()["id"]
            purchase = Purchase(work_id=work_id, buyer_id=buyer["id"], status=status, amount_cents=2500,
                                wallet_address=buyer["wallet_address"], token_id="12345" if status == "delivered"
                                else None, failure_reason="The work could not be delivered; refunded"
                                if status == "refunded" else None, checkout_url="http://pay.example/x")
            session.add(purchase)
            session.commit()
            ids[status] = purchase.id
    for status, text in expected.items():
        page = user.get(f"/purchases/{ids[status]}")
        assert page.status_code == 200 and text in page.text, status
        final = status in ("delivered", "refunded", "failed", "expired")
        assert ('hx-trigger="every 1s"' in page.text) is not final, status
    assert "Reason: The work could not be delivered; refunded" in user.get(f"/purchases/{ids['refunded']}").text
    assert "/tokens/0x" in user.get(f"/purchases/{ids['delivered']}").text
    cancelled = user.get(f"/purchases/{ids['pending']}?cancelled=1").text
    assert "Payment not completed" in cancelled
    with Session(db.get_engine()) as session:
        pending_work = session.get(Purchase, ids["pending"]).work_id
    assert f'action="/works/{pending_work}/buy"' in cancelled  # "Return to payment": the session again, or a new one
    assert f'action="/purchases/{ids["pending"]}/cancel"' in cancelled
    fr = user.get(f"/purchases/{ids['expired']}/status", headers={"Accept-Language": "fr"}).text
    assert "Le paiement a expiré ou a été annulé" in fr and "hx-trigger" not in fr
    with Session(db.get_engine()) as session:  # expired because the buyer cancelled it
        session.get(Purchase, ids["expired"]).failure_reason = "Cancelled by the buyer"
        session.commit()
    assert "You cancelled the payment. The work is available again." in user.get(f"/purchases/{ids['expired']}").text
    assert user.get("/purchases/999999").status_code == 404


def test_work_page_shows_each_kind_of_media_as_it_should(web):
    from tests.catalog.test_media import PDF_BYTES, ebml, glb_bytes, wav_bytes

    user = web()
    user.sign_up(role="creator", name="Studio Nord")
    cases = {
        "image": (png_bytes((800, 600)), "poster.png",
                  [r'<img src="/ipfs/\w+" alt="Work image, by Studio Nord"\s+width="800" height="600"']),
        "audio": (wav_bytes(), "theme.wav", [r'<audio controls preload="metadata" src="/ipfs/\w+"']),
        "video": (ebml(b"webm"), "clip.webm", [r'<video controls preload="metadata" src="/ipfs/\w+"']),
        "document": (PDF_BYTES, "book.pdf", [r'<a class="button" href="/ipfs/\w+" target="_blank" rel="noopener">'
                                             r'Open the PDF</a>']),
        "model": (glb_bytes(), "chair.glb", [r'<a class="button" href="/ipfs/\w+" download>Download the 3D model']),
    }
    for kind, (content, filename, patterns) in cases.items():
        r = upload(user, json=True, content=content, filename=filename, title=f"Work {kind}")
        assert r.status_code == 201, (kind, r.text)
        page = user.get(f"/works/{r.json()['id']}").text
        for pattern in patterns:
            assert re.search(pattern, page), (kind, pattern)
    studio = user.get("/studio").text
    assert studio.count('class="thumb-placeholder"') == 4  # only the image has a thumbnail


def test_audio_and_video_show_their_cover_on_every_page(web):
    """The studio's cover picker (the same service as the API's `cover`): the work page, the cards and the
    certificate show it; a cover on an image is refused next to the cover field, in the reader's language."""
    from tests.catalog.test_covers import cover_png, wav
    from tests.catalog.test_media import ebml

    user = web()
    user.sign_up(role="creator", name="Studio Nord")
    studio = user.get("/studio").text
    assert re.search(r'<input type="file" id="cover" name="cover" class="file-input" accept="image/png,', studio)
    assert studio.count('type="file"') == 2 and 'class="file-label"' not in studio  # one picker per file

    def row(work_id: int) -> dict:  # drafts: the API shows them to bearer tokens only
        from sqlmodel import Session

        from marketplace.catalog.models import Work
        from marketplace.core import db
        with Session(db.get_engine()) as session:
            return session.get(Work, work_id).model_dump()

    def post(content: bytes, filename: str, cover: bytes | None, **headers):
        files = {"file": (filename, content, "application/octet-stream")}
        files["cover"] = ("cover.png", cover, "image/png") if cover is not None else ("", b"", "image/png")
        return user.post_form("/studio", "/studio/works", {**UPLOAD, "title": f"With a cover {filename}"},
                              files=files, headers={"Accept": "application/json", **headers})

    audio = post(wav(), "theme.wav", cover_png())
    assert audio.status_code == 201, audio.text
    video = post(ebml(b"webm"), "clip.webm", cover_png((1280, 720)))
    assert video.status_code == 201, video.text
    bare = post(wav(), "plain.wav", None)  # the empty cover field of a form with no cover chosen
    assert bare.status_code == 201, bare.text
    works = {name: row(r.json()["id"]) for name, r in (("audio", audio), ("video", video), ("bare", bare))}
    assert works["bare"]["cover_cid"] is None and works["audio"]["cover_mime"] == "image/png"

    page = user.get(f"/works/{works['audio']['id']}").text
    assert (f'<img class="cover" src="/ipfs/{works["audio"]["cover_cid"]}" alt="Cover of With a cover theme.wav, '
            f'by Studio Nord" width="640" height="640"') in page
    page = user.get(f"/works/{works['video']['id']}").text
    assert re.search(rf'<video controls preload="metadata" src="/ipfs/\w+" aria-label="[^"]*" '
                     rf'poster="/ipfs/{works["video"]["cover_cid"]}"', page)
    studio = user.get("/studio").text
    for name in ("audio", "video"):
        assert f'<img src="/ipfs/{works[name]["thumbnail_cid"]}" alt="With a cover' in studio
    assert studio.count('class="thumb-placeholder"') == 1  # the audio without a cover

    refused = post(png_bytes((300, 200)), "poster.png", cover_png())
    assert refused.status_code == 422
    assert refused.json()["errors"]["cover"] == ("A cover image is for audio and video works only: remove it, or "
                                                 "choose an audio or video file.")
    fr = post(wav(), "x.wav", wav(), **{"Accept-Language": "fr"})
    assert fr.status_code == 422
    assert fr.json()["errors"]["cover"] == ("La couverture doit être une image : PNG, JPEG, GIF, WebP, AVIF, TIFF ou "
                                            "SVG sans scripts.")
    # without script the form posts and the page comes back with the message by the cover field
    page = user.post_form("/studio", "/studio/works", UPLOAD, files={
        "file": ("poster.png", png_bytes((300, 200)), "image/png"), "cover": ("c.png", cover_png(), "image/png")})
    assert page.status_code == 422
    assert re.search(r'id="cover-error"\s*>A cover image is for audio and video works only', page.text)
    from tests.catalog.test_covers import work_count
    assert work_count() == 3  # the refusals left no row

    # minted: the gallery card and the certificate show the cover too
    token = csrf_from(user.get("/studio").text)
    r = user.client.post(f"/studio/works/{works['audio']['id']}/mint", headers={"X-CSRF-Token": token})
    assert r.status_code == 303
    deadline = time.monotonic() + 30
    while (minted := user.get(f"/api/works/{works['audio']['id']}").json()).get("status") != "minted":
        assert time.monotonic() < deadline, minted
        time.sleep(0.1)
    visitor = web()
    assert f'<img src="/ipfs/{minted["thumbnail_cid"]}" alt="With a cover theme.wav' in visitor.get("/").text
    cert = visitor.get(f"/tokens/{minted['token_id_hex']}").text
    assert f'<img src="/ipfs/{minted["thumbnail_cid"]}"' in cert
    assert f'href="/ipfs/{minted["cover_cid"]}"' in cert
