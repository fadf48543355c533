"""A creator and a buyer use the marketplace in a real browser (Chromium), the way a person would.

The live app (uvicorn) with the Stripe double, anvil and an IPFS node; SQLite (the database paths are covered by
the API and page tests on both databases). Screenshots of every page go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import base64
import io
import re

import pytest
from PIL import Image, ImageDraw

from devtools.seed import _tune
from tests.payments.conftest import Shop
from tests.web.conftest import PHONE

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.ipfs, pytest.mark.chain,
              pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)]


def poster_png(size=(1600, 1000)) -> bytes:
    img = Image.new("RGB", size, (245, 243, 238))
    draw = ImageDraw.Draw(img)
    w, h = size
    for i, colour in enumerate(((237, 41, 57), (255, 255, 255), (0, 163, 224))):
        draw.rectangle((0, h * i // 3, w, h * (i + 1) // 3), fill=colour)
    for i in range(9):
        r = 60 + i * 40
        draw.ellipse((w // 2 - r, h // 2 - r, w // 2 + r, h // 2 + r), outline=(27, 31, 36), width=6)
    # film grain: a real photograph's worth of bytes (~3 MB), so the progress bar has something to show
    grain = Image.merge("RGB", [Image.effect_noise(size, 40)] * 3)
    img = Image.blend(img, grain, 0.12)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def sign_up(page, base: str, *, role: str, name: str, email: str) -> None:
    page.goto(f"{base}/signup")
    page.get_by_label("Sell my works (creator)" if role == "creator" else "Buy works").check()
    page.get_by_label("Name shown to others").fill(name)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill("correct horse 1")
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_load_state()


def buy(page, button, *, read: str = "I have read the licence") -> None:
    """Buy on the work page as a buyer does: confirm having read the licence, consent to immediate supply (both
    boxes are required), then press Buy."""
    page.get_by_label(read).check()
    page.locator("#accept-immediate-supply").check()
    page.get_by_role("button", name=button).click()


def fill_work(page, *, title: str, description: str, discipline: str, license_: str, price: str, royalty: str):
    form = page.locator("#upload-form")
    form.get_by_label("Title", exact=True).fill(title)
    form.get_by_label("Description").fill(description)
    form.get_by_label("Discipline").select_option(discipline)
    form.get_by_label("Licence").select_option(license_)
    form.get_by_label("Price (€)").fill(price)
    form.get_by_label("Royalty on resales (%)").fill(royalty)


def drop_file(page, data: bytes, name: str, mime: str) -> None:
    """Drag and drop a file onto the drop zone, as the browser delivers it (a DataTransfer on `drop`)."""
    page.evaluate("""([b64, name, mime]) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], name, { type: mime }));
        const zone = document.getElementById("dropzone");
        for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
        }
    }""", [base64.b64encode(data).decode(), name, mime])


def watch_progress(page, seen: list[int]) -> None:
    """Record every value the upload progress bar takes (it survives the navigation after the upload)."""
    page.evaluate("""() => {
        const bar = document.getElementById("upload-progress");
        new MutationObserver(() => window.recordProgress(Number(bar.value)))
            .observe(bar, { attributes: true, attributeFilter: ["value"] });
    }""")


def throttle_uploads(page, bytes_per_second: int) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 5, "downloadThroughput": -1,
                                                  "uploadThroughput": bytes_per_second})


def upload_and_mint(page, base: str, browsing, *, seen: list[int]) -> str:
    """Submit the filled form, watch it redirect to the studio, press Mint and wait for the token id."""
    with page.expect_navigation(url=re.compile(r"/studio\?uploaded=\d+"), timeout=60_000):
        page.get_by_role("button", name="Upload").click()
    work_id = re.search(r"uploaded=(\d+)", page.url).group(1)
    row = page.locator(f"#work-{work_id}")
    assert "is uploaded as a draft" in page.locator(".notice").inner_text()
    row.get_by_role("button", name="Mint").click()
    row.get_by_text("Minting on the chain…").wait_for()
    row.locator(".token-id").wait_for(timeout=30_000)  # htmx polls until the worker has minted it
    return work_id


def test_creator_uploads_and_mints_then_a_buyer_pays_and_owns_the_token(make_live, browsing):
    live = make_live()
    base = live.url
    seen: list[int] = []

    # --- a creator signs up, uploads an image and an audio file with the progress bar, and mints them
    creator = browsing.person()
    creator.expose_function("recordProgress", lambda v: seen.append(int(v)))
    sign_up(creator, base, role="creator", name="Anna Schmit Studio", email="anna@example.lu")
    assert creator.url == f"{base}/studio"
    browsing.shot(creator, "01-studio-empty")

    watch_progress(creator, seen)
    creator.get_by_role("button", name="Upload").click()  # nothing filled in: messages next to the fields
    assert creator.locator("#file-error").inner_text() == "Choose a file to upload."
    assert creator.locator("#title-error").inner_text() == "Please fill in this field."
    assert creator.locator("#price-error").inner_text() == "Please fill in this field."
    assert creator.evaluate("document.activeElement.id") == "file"
    browsing.shot(creator, "02-studio-validation")

    creator.set_input_files("#file", files=[{"name": "moselle-circles.png", "mimeType": "image/png",
                                             "buffer": poster_png()}])
    creator.locator("#preview img.preview-media").wait_for()  # previewed before submitting
    fill_work(creator, title="Moselle Circles", description="A poster series on the rivers of Luxembourg.",
              discipline="design", license_="CC-BY-4.0", price="45", royalty="7.5")
    browsing.shot(creator, "03-studio-image-preview")
    throttle_uploads(creator, 2_000_000)
    image_id = upload_and_mint(creator, base, browsing, seen=seen)
    assert 100 in seen and any(0 < v < 100 for v in seen), f"the progress bar moved: {seen}"
    image_token = creator.locator(f"#work-{image_id} .token-id").get_attribute("data-token-id")
    api_work = live.client.get(f"/api/works/{image_id}").json()
    assert api_work["status"] == "minted" and image_token == str(api_work["token_id"])
    assert creator.locator(f"#work-{image_id} .token-id").inner_text().startswith(api_work["token_id_hex"][:10])
    assert api_work["mint_tx_hash"][:10] in creator.locator(f"#work-{image_id} .tx-hash").inner_text()

    seen.clear()
    watch_progress(creator, seen)
    drop_file(creator, _tune(seconds=40), "schueberfouer-theme.wav", "audio/wav")  # ~1.7 MB, dragged and dropped
    creator.locator("#preview audio.preview-media").wait_for()
    fill_work(creator, title="Schueberfouer Theme", description="A short theme for the fair, free to use with "
              "credit.", discipline="music", license_="CC-BY-SA-4.0", price="9", royalty="5")
    audio_id = upload_and_mint(creator, base, browsing, seen=seen)
    assert 100 in seen and any(0 < v < 100 for v in seen), f"the progress bar moved: {seen}"
    browsing.shot(creator, "04-studio-minted")
    creator.goto(f"{base}/works/{audio_id}")
    assert creator.locator("audio[controls]").count() == 1
    browsing.shot(creator, "05-work-audio")

    # --- a buyer signs up, finds the work by search, pays on Stripe's (the double's) page
    buyer = browsing.person()
    sign_up(buyer, base, role="buyer", name="Marie Buyer", email="marie@example.lu")
    assert buyer.url == f"{base}/"
    search = buyer.get_by_label("Search")
    search.fill("moselle")
    search.press("Enter")
    buyer.wait_for_url(re.compile(r"\?q=moselle"))
    results = buyer.locator("#results .card")
    results.first.wait_for()
    assert results.count() == 1 and "Moselle Circles" in results.first.inner_text()
    browsing.shot(buyer, "06-gallery-search")
    results.first.get_by_role("link", name=re.compile("Moselle Circles")).first.click()
    buyer.wait_for_url(f"{base}/works/{image_id}")
    image = buyer.locator(".work-media img")
    assert image.get_attribute("width") == "1600" and image.get_attribute("height") == "1000"
    assert image.get_attribute("alt") == "Moselle Circles, by Anna Schmit Studio"
    assert "7.5%" in buyer.locator(".facts").first.inner_text()
    browsing.shot(buyer, "07-work-page")

    buy(buyer, re.compile(r"Buy for €45\.00"))
    buyer.wait_for_url(f"{live.double.public_url}/pay/**")
    assert "€45.00" in buyer.locator("body").inner_text()
    browsing.shot(buyer, "08-stripe-double-checkout")
    buyer.get_by_role("button", name="Pay", exact=True).click()
    buyer.wait_for_url(re.compile(rf"{re.escape(base)}/purchases/\d+\?session_id=cs_"))
    buyer.get_by_text("Delivered: the token is in your wallet.").wait_for(timeout=45_000)  # live, via htmx
    browsing.shot(buyer, "09-purchase-delivered")

    buyer.get_by_role("link", name="Go to my collection").click()
    buyer.wait_for_url(f"{base}/collection")
    owned = buyer.locator("#owned .card")
    assert owned.count() == 1 and "Moselle Circles" in owned.first.inner_text()
    wallet = buyer.locator("#collection-wallet").inner_text()
    browsing.shot(buyer, "10-collection")

    # --- the certificate opens for anyone, signed out
    visitor = browsing.person()
    visitor.goto(f"{base}/tokens/{api_work['token_id_hex']}")
    assert visitor.get_by_role("link", name="Sign in").count() == 1
    assert visitor.locator("#cert-owner").inner_text() == wallet
    assert visitor.locator("#cert-contract").inner_text() == api_work["contract_address"]
    assert visitor.locator("#cert-tx").inner_text() == api_work["mint_tx_hash"]
    media_link = visitor.locator("#cert-media-cid a.long-full")
    assert media_link.get_attribute("href") == f"/ipfs/{api_work['media_cid']}"
    browsing.shot(visitor, "11-certificate")
    response = visitor.request.get(f"{base}/ipfs/{api_work['metadata_cid']}")
    assert response.ok and response.json()["name"] == "Moselle Circles"

    # --- the creator sees the sale and the earnings (ledger: 45.00 minus the 10 % fee)
    creator.goto(f"{base}/studio")
    assert creator.locator("#balance").inner_text() == "€40.50"
    assert "Moselle Circles" in creator.locator("#sales").inner_text()
    browsing.shot(creator, "12-studio-sales")

    # --- the same pages at a phone's width, and in French
    for who, page, path, name in ((creator, creator, "/studio", "studio"), (buyer, buyer, "/", "gallery"),
                                  (buyer, buyer, f"/works/{image_id}", "work"),
                                  (visitor, visitor, f"/tokens/{api_work['token_id_hex']}", "certificate")):
        phone = browsing.browser.new_context(viewport=PHONE, storage_state=who.context.storage_state())
        browsing.contexts.append(phone)
        p = phone.new_page()
        browsing.watch(p)
        p.goto(f"{base}{path}")
        width = p.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways on a phone ({width}px)"
        browsing.shot(p, f"13-phone-{name}")
    french = browsing.person(locale="fr-LU")
    french.set_extra_http_headers({"Accept-Language": "fr-LU,fr;q=0.9"})
    french.goto(f"{base}/")
    assert french.locator("html").get_attribute("lang") == "fr"
    assert "Œuvres numériques" in french.locator("h1").inner_text()
    browsing.shot(french, "14-gallery-fr")


def test_gallery_is_keyboard_usable_and_does_not_shift(make_live, browsing):
    live = make_live()
    shop = Shop(live)
    creator = shop.register(role="creator", name="Luc Weber")
    for n in range(3):
        shop.minted_work(creator, title=f"Kirchberg at Dusk {n}", discipline="photography", price_cents=1200 + n)
    page = browsing.person()
    page.goto(live.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.id")
    assert focused == "q"  # after "skip to content", the search field comes first
    page.keyboard.type("dusk 1")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=dusk(\+|%20)1"))
    assert page.locator("#results .card").count() == 1
    page.goto(live.url + "/")
    shift = page.evaluate("""() => new Promise((resolve) => {
        let total = 0;
        new PerformanceObserver((list) => {
            for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
        }).observe({ type: "layout-shift", buffered: true });
        setTimeout(() => resolve(total), 800);
    })""")
    assert shift < 0.02, f"cumulative layout shift {shift}"
    img = page.locator(".card img").first
    assert img.get_attribute("width") and img.get_attribute("height") and img.get_attribute("alt")
    browsing.shot(page, "15-gallery-three-works")
    page.goto(live.url + "/?q=nothing-like-this")
    assert page.get_by_text("No works match").is_visible()
    browsing.shot(page, "16-gallery-empty")
    page.goto(live.url + "/about")
    browsing.shot(page, "17-about")


def signed_in(browsing, live, user: dict):
    """A browser signed in as an account made through the API (the session cookie holds its access token)."""
    page = browsing.person()
    page.context.add_cookies([{"name": "mp_session", "value": user["headers"]["Authorization"].split()[1],
                               "url": live.url}])
    return page


def test_a_buyer_who_cancels_releases_the_work_and_the_price_is_fixed_meanwhile(make_live, browsing):
    live = make_live()
    shop = Shop(live)
    anna = shop.register(role="creator", name="Anna Schmit Studio")
    work = shop.minted_work(anna, title="Kirchberg at Dusk", price_cents=12000)
    buyer = browsing.person()
    sign_up(buyer, live.url, role="buyer", name="Marie Buyer", email="marie.cancel@example.lu")
    buyer.goto(f"{live.url}/works/{work['id']}")
    buy(buyer, "Buy for €120.00")
    buyer.wait_for_url(f"{live.double.public_url}/pay/**")

    # while Marie is on the payment page, Anna tries to change the price in her studio
    creator = signed_in(browsing, live, anna)
    creator.goto(f"{live.url}/studio")
    price = creator.locator(f"#price-input-{work['id']}")
    price.fill("130")
    creator.locator(f"#price-{work['id']}").get_by_role("button", name="Save price").click()
    message = creator.locator(f"#price-error-{work['id']}")
    message.wait_for()
    assert message.inner_text() == ("A buyer is paying for this work at its current price: change it once that "
                                    "checkout ends.")
    browsing.shot(creator, "18-studio-price-fixed-during-checkout")

    buyer.get_by_role("button", name="Cancel", exact=True).click()
    buyer.wait_for_url(re.compile(rf"{re.escape(live.url)}/purchases/\d+\?cancelled=1&key=\w+"))
    status = buyer.locator("#purchase-status .status-line")
    assert status.inner_text() == "You cancelled the payment. The work is available again."
    assert buyer.get_by_role("button", name="Return to payment").count() == 0
    browsing.shot(buyer, "19-purchase-cancelled")

    # released at once: the price may change again, and the work is for sale at it
    price = creator.locator(f"#price-input-{work['id']}")
    price.fill("130")
    creator.locator(f"#price-{work['id']}").get_by_role("button", name="Save price").click()
    creator.get_by_text("Price saved.").wait_for()
    buyer.get_by_role("link", name="Back to the work").click()
    assert buyer.get_by_role("button", name="Buy for €130.00").is_visible()
    browsing.shot(buyer, "20-work-available-again")


def test_a_declined_card_says_why_and_return_to_payment_pays(make_live, browsing):
    live = make_live()
    shop = Shop(live)
    creator = shop.register(role="creator", name="Anna Schmit Studio")
    work = shop.minted_work(creator, title="Kirchberg at Dusk", price_cents=12000)
    buyer = browsing.person()
    sign_up(buyer, live.url, role="buyer", name="Marie Buyer", email="marie.decline@example.lu")
    buyer.goto(f"{live.url}/works/{work['id']}")
    buy(buyer, re.compile("Buy for"))
    buyer.wait_for_url(f"{live.double.public_url}/pay/**")
    checkout_url = buyer.url

    buyer.get_by_label("Card number").fill("4000 0000 0000 9995")  # Stripe's "insufficient funds" test card
    buyer.get_by_role("button", name="Pay", exact=True).click()
    buyer.get_by_text("Your card has insufficient funds.").wait_for()
    browsing.shot(buyer, "26-stripe-double-declined")
    buyer.get_by_role("button", name="Cancel", exact=True).click()
    buyer.wait_for_url(re.compile(rf"{re.escape(live.url)}/purchases/\d+\?cancelled=1"))
    status = buyer.locator("#purchase-status .status-line")
    assert status.inner_text() == "Your card was declined: your card has insufficient funds. You can try again."
    assert buyer.get_by_role("button", name="Cancel the purchase").is_visible()
    browsing.shot(buyer, "27-purchase-declined")

    # the work page offers the way back to the same payment
    buyer.get_by_role("link", name="Back to the work").click()
    assert "Your checkout for this work is still open." in buyer.locator(".buy-box").inner_text()
    browsing.shot(buyer, "28-work-return-to-payment")
    buyer.get_by_role("button", name="Return to payment").click()
    buyer.wait_for_url(checkout_url)  # the same Checkout Session
    assert buyer.get_by_label("Card number").input_value() == "4242 4242 4242 4242"
    buyer.get_by_role("button", name="Pay", exact=True).click()
    buyer.wait_for_url(re.compile(rf"{re.escape(live.url)}/purchases/\d+\?session_id=cs_"))
    buyer.get_by_text("Delivered: the token is in your wallet.").wait_for(timeout=45_000)

    # a sold work shows the price it sold for
    buyer.get_by_role("link", name="Back to the work").click()
    assert buyer.locator(".price-big").inner_text() == "Sold for €120.00"
    browsing.shot(buyer, "29-work-sold-for")
    buyer.goto(f"{live.url}/")
    card = buyer.locator("#results .card", has_text="Kirchberg at Dusk")
    assert "Sold for €120.00" in card.locator(".card-foot").inner_text()
    browsing.shot(buyer, "30-gallery-sold-for")


def test_a_german_reader_switches_language_and_pays_on_a_german_checkout_page(make_live, browsing):
    live = make_live()
    shop = Shop(live)
    creator = shop.register(role="creator", name="Atelier Wiltz")
    work = shop.minted_work(creator, title="Sauer Valley", price_cents=4500, royalty_bps=750)
    buyer = browsing.person(locale="en-GB")
    sign_up(buyer, live.url, role="buyer", name="Jang Buyer", email="jang.de@example.lu")
    switch = buyer.locator(".lang-switch")
    assert switch.inner_text().split() == ["EN", "FR", "DE"]
    switch.get_by_role("link", name="DE").click()  # the switch keeps the reader on the same page
    buyer.wait_for_url(f"{live.url}/")
    assert buyer.locator("html").get_attribute("lang") == "de"
    assert buyer.locator("h1").inner_text() == "Digitale Werke der Luxemburger Kreativwirtschaft"
    assert buyer.locator("#results .count").inner_text() == "1 Werk"
    assert "45,00\xa0€" in buyer.locator("#results .card .price").inner_text()
    browsing.shot(buyer, "21-gallery-de")

    buyer.goto(f"{live.url}/works/{work['id']}")
    assert "7,5\xa0%" in buyer.locator(".facts").first.inner_text()
    assert buyer.get_by_text("Lizenzgebühr bei Weiterverkäufen").is_visible()
    browsing.shot(buyer, "22-work-de")
    buy(buyer, "Für 45,00\xa0€ kaufen", read="Ich habe die Lizenz gelesen")
    buyer.wait_for_url(f"{live.double.public_url}/pay/**")
    assert buyer.locator("html").get_attribute("lang") == "de"  # the session's locale, not the browser's (en-GB)
    assert buyer.locator("h1").inner_text() == "45,00\xa0€ bezahlen"
    browsing.shot(buyer, "23-stripe-double-checkout-de")
    buyer.get_by_role("button", name="Ablehnen", exact=True).click()
    buyer.get_by_text("Ihre Karte wurde abgelehnt.", exact=False).wait_for()
    buyer.get_by_role("button", name="Bezahlen", exact=True).click()
    buyer.wait_for_url(re.compile(rf"{re.escape(live.url)}/purchases/\d+\?session_id=cs_"))
    buyer.get_by_text("Geliefert: Der Token ist in Ihrer Wallet.").wait_for(timeout=45_000)
    assert "Geliefert" in buyer.locator("#purchase-status .facts").inner_text()
    browsing.shot(buyer, "24-purchase-delivered-de")
    buyer.goto(f"{live.url}/collection")
    assert buyer.locator("h1").inner_text() == "Meine Sammlung"
    assert re.search(r"\d{1,2}\. \w+ 20\d\d", buyer.locator("table").inner_text())  # "2. Dezember 2026"
    browsing.shot(buyer, "25-collection-de")
