"""The gallery's address and messages without a browser: the address holds what is applied and nothing else
(htmx is told which address to push), "Clear filters" sits in the results htmx swaps, a page past the end says
so (the gallery's and a creator's)."""

from __future__ import annotations

import re

import pytest

from tests.web.helpers import WebUser

pytestmark = [pytest.mark.ipfs, pytest.mark.chain]
HTMX = {"HX-Request": "true"}


@pytest.fixture
def listed(api):
    creator = api.register(role="creator", name="Luc Weber")
    for title, discipline, price in (("Schueberfouer Theme", "music", 900), ("Kirchberg at Dusk", "photography",
                                                                             12000), ("Grund Stairs", "design", 2000)):
        work = api.upload(creator, title=title, discipline=discipline, price_cents=price).json()
        assert api.client.post(f"/api/works/{work['id']}/mint", headers=creator["headers"]).status_code == 202
        api.wait_for_status(work["id"], "minted")
    return creator


def results(html: str) -> str:
    return html[html.index('<section id="results"'):]


def test_the_address_holds_what_is_applied_and_htmx_is_told_to_push_it(client, listed):
    user = WebUser(client)
    # what a form sends (every field, empty ones too): the address bar gets the filters in effect, nothing else
    form = user.get("/?q=&discipline=music&license=&creator=&min_price=&max_price=&sort=newest")
    assert form.status_code == 302 and form.headers["location"] == "/?discipline=music"
    swapped = user.get("/?q=+dusk+&discipline=photography&license=&creator=&min_price=200&max_price=50"
                       "&sort=price_desc", headers=HTMX)
    assert swapped.status_code == 200
    assert swapped.headers["hx-push-url"] == "/?q=dusk&discipline=photography&min_price=50&max_price=200&sort=price_desc"
    assert "Kirchberg at Dusk" in results(swapped.text)
    # ignored values leave the address; a canonical address (in any order) is served as it is
    assert user.get("/?discipline=nonsense&sort=cheapest&page=0").headers["location"] == "/"
    assert user.get("/?sort=title&discipline=design").status_code == 200
    assert user.get("/?page=1").headers["location"] == "/"


def test_clear_filters_is_in_the_results_whenever_a_filter_is_set(client, listed):
    user = WebUser(client)
    assert "Clear filters" not in user.get("/").text
    assert "Clear filters" not in user.get("/?sort=price_asc").text  # a sort is not a filter
    for query in ("q=stairs", "discipline=design", "license=CC-BY-4.0", "creator=weber", "min_price=5",
                  "max_price=30"):
        page = user.get(f"/?{query}", headers=HTMX)  # what htmx swaps in: the results
        assert re.search(r'<a href="/" class="reset-filters">Clear filters</a>', results(page.text)), query


def test_a_page_past_the_end_says_so_and_links_to_the_last_page(client, listed):
    user = WebUser(client)
    past = results(user.get("/?page=9").text)
    assert "Page 9 is past the end: there are 3 works." in past
    assert "No works" not in past and "3 works</p>" not in past
    assert re.search(r'<a class="button" href="/">Go to the last page</a>', past)
    one = results(user.get("/?discipline=music&page=2").text)
    assert "Page 2 is past the end: there is 1 work." in one and 'href="/?discipline=music"' in one
    french = results(user.get("/?page=4", headers={"Accept-Language": "fr"}).text)
    assert "La page 4 est après la fin : il y a 3 œuvres." in french
    assert "Page 1 of" not in results(user.get("/").text)  # one page: no pagination, no message

    profile = user.get(f"/creators/{listed['id']}?page=5").text
    assert "Page 5 is past the end: there are 3 works." in profile and "No published works yet" not in profile
    assert f'href="/creators/{listed["id"]}">Go to the last page' in profile
