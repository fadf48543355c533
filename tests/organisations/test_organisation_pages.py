"""The organisations' pages, in English, French and German: the list (with its filters), an organisation's page
(members, their works, their calls) and the creator's page naming their organisations."""

from __future__ import annotations

import pytest

from tests.calls.conftest import CallsApi
from tests.organisations.helpers import add_member, make_org, published_work

WORDS = {
    "en": ("Organisations", "Members", "Works by its members", "Calls posted by its members", "Hub", "Member of"),
    "fr": ("Organisations", "Membres", "Œuvres de ses membres", "Appels publiés par ses membres", "Pôle créatif",
           "Membre de"),
    "de": ("Organisationen", "Mitglieder", "Werke seiner Mitglieder", "Ausschreibungen seiner Mitglieder",
           "Kreativzentrum", "Mitglied von"),
}


@pytest.mark.parametrize("lang", ["en", "fr", "de"])
def test_the_organisation_pages_in_each_language(api, lang):
    admin = api.register_admin()
    anna = api.register(role="creator", name="Anna Schmit")
    festival = api.register(role="buyer", name="Moselle Festival")
    hub = make_org(api, admin, "Esch Sound Hub", "hub", city="Esch-sur-Alzette", description="Rehearsal rooms.")
    make_org(api, admin, "Lycée des Arts", "school")
    for person in (anna, festival):
        assert add_member(api, admin, hub["slug"], person["id"]).status_code == 201
    published_work(anna["id"], "music", title="Minett Beats")
    call = CallsApi(api).post_call(festival, title="Sound for the Minett trail")
    headers = {"Accept-Language": lang}
    list_words, page_words = WORDS[lang][:1] + WORDS[lang][4:5], WORDS[lang][1:4]

    listing = api.client.get("/organisations", headers=headers)
    assert listing.status_code == 200
    assert all(w in listing.text for w in list_words), list_words
    assert 'href="/organisations/esch-sound-hub"' in listing.text and "Lycée des Arts" in listing.text
    only_schools = api.client.get("/organisations?kind=school", headers=headers).text
    assert "Lycée des Arts" in only_schools and "Esch Sound Hub" not in only_schools
    assert "Esch Sound Hub" in api.client.get("/organisations?q=esch", headers=headers).text
    assert api.client.get("/organisations?kind=castle&q=", headers=headers).status_code == 200  # ignored

    page = api.client.get("/organisations/esch-sound-hub", headers=headers)
    assert page.status_code == 200
    assert all(w in page.text for w in page_words), page_words
    assert f'href="/creators/{anna["id"]}"' in page.text and "Moselle Festival" in page.text
    assert "Minett Beats" in page.text and f'href="/calls/{call["id"]}"' in page.text
    assert "Rehearsal rooms." in page.text and "Esch-sur-Alzette" in page.text
    assert api.client.get("/organisations/nowhere", headers={**headers, "Accept": "text/html"}).status_code == 404

    creator = api.client.get(f"/creators/{anna['id']}", headers=headers)
    assert WORDS[lang][5] in creator.text and 'href="/organisations/esch-sound-hub"' in creator.text
