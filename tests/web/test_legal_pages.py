"""The terms of sale, the privacy notice and the imprint: public, in EN/FR/DE, linked from every page's footer and
from sign-up; the withdrawal-right text quotes the consent the work page asks for; the operator's details come
from the settings, marked as placeholders while they are the defaults."""

from __future__ import annotations

import pytest

from marketplace.payments.models import IMMEDIATE_SUPPLY_CONSENT

CONSENT = {
    "en": IMMEDIATE_SUPPLY_CONSENT,
    "fr": "Je demande que l'œuvre me soit fournie immédiatement, avant la fin du délai de rétractation de 14 jours, "
          "et je reconnais perdre ainsi mon droit de rétractation.",
    "de": "Ich verlange, dass mir das Werk sofort, vor Ablauf der 14-tägigen Widerrufsfrist, geliefert wird, und "
          "bestätige, dass ich dadurch mein Widerrufsrecht verliere.",
}
TITLES = {
    "/terms": {"en": "Terms of sale", "fr": "Conditions de vente", "de": "Verkaufsbedingungen"},
    "/privacy": {"en": "Privacy notice", "fr": "Politique de confidentialité", "de": "Datenschutzerklärung"},
    "/imprint": {"en": "Imprint", "fr": "Mentions légales", "de": "Impressum"},
}


def _escaped(text: str) -> str:
    return text.replace("'", "&#39;")


@pytest.mark.parametrize("lang", ["en", "fr", "de"])
def test_the_legal_pages_in_each_language(client, lang):
    for path, titles in TITLES.items():
        page = client.get(path, headers={"Accept-Language": lang})
        assert page.status_code == 200, path
        assert f"<h1>{titles[lang]}</h1>" in page.text
        assert 'id="operator-details"' in page.text and "[Operator company name] S.à r.l." in page.text
        assert 'id="operator-placeholder"' in page.text  # the defaults are marked as placeholders
        for other, other_titles in TITLES.items():  # the footer links all three
            assert f'<a href="{other}">{other_titles[lang]}</a>' in page.text
    terms = client.get("/terms", headers={"Accept-Language": lang}).text
    assert f'<blockquote id="consent-wording">{_escaped(CONSENT[lang])}</blockquote>' in terms
    article = {"en": "article 16(m)", "fr": "article 16, point m)", "de": "Artikel 16 Buchstabe m"}[lang]
    assert 'id="withdrawal"' in terms and article in terms and "L. 222-9" in terms


def test_the_terms_name_the_operator_s_real_details_once_set(make_client):
    client = make_client(operator_name="Atelier Numérique S.à r.l.",
                         operator_address="1, rue du Fort, L-1111 Luxembourg", operator_rcs="B123456", operator_vat_id="LU12345678", operator_email="hello@atelier.lu",
                         vat_rate_bps=1700, platform_fee_bps=1000)
    for path in TITLES:
        page = client.get(path).text
        assert "Atelier Numérique S.à r.l." in page and "B123456" in page and "LU12345678" in page
        assert 'id="operator-placeholder"' not in page
    terms = client.get("/terms").text
    assert "less its fee of 10%" in terms and "include VAT (17%)" in terms and "hello@atelier.lu" in terms


def test_sign_up_links_the_terms_and_the_privacy_notice(client):
    page = client.get("/signup").text
    assert ('By creating an account you accept the <a href="/terms">terms of sale</a> and confirm you have read the '
            '<a href="/privacy">privacy notice</a>.') in page
    fr = client.get("/signup", headers={"Accept-Language": "fr"}).text
    assert '<a href="/terms">conditions de vente</a>' in fr
    assert '<a href="/privacy">politique de confidentialité</a>' in fr
