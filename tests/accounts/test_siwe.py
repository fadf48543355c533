"""The EIP-4361 module: the EIP's own examples parse and re-render byte for byte, any message built from the ABNF's
pieces round-trips (hypothesis), malformed texts are refused with a reason, and a signature is only the signer's
for the exact text it signed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from eth_account import Account as EthAccount
from eth_account.messages import encode_defunct
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.accounts import siwe

# the EIP's example message (with its optional fields)
SPEC = """example.com wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2

I accept the ExampleOrg Terms of Service: https://example.com/tos

URI: https://example.com/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Resources:
- ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/
- https://example.com/my-web2-claim.json"""

# the EIP's example with a scheme and every optional field, and one without a statement
SPEC_FULL = """https://example.com wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2

I accept the ExampleOrg Terms of Service: https://example.com/tos

URI: https://example.com/login
Version: 1
Chain ID: 1
Nonce: 32891756
Issued At: 2021-09-30T16:25:24Z
Expiration Time: 2021-10-01T16:25:24.000Z
Not Before: 2021-09-30T16:00:00+02:00
Request ID: some-request_42
Resources:
- https://example.com/my-web2-claim.json"""

NO_STATEMENT = """localhost:4361 wants you to sign in with your Ethereum account:
0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2


URI: http://localhost:4361
Version: 1
Chain ID: 31337
Nonce: abcdef1234
Issued At: 2021-09-30T16:25:24Z"""


@pytest.mark.parametrize("text", [SPEC, SPEC_FULL, NO_STATEMENT])
def test_the_eips_examples_parse_and_render_back(text):
    message = siwe.parse(text)
    assert siwe.render(message) == text
    assert message.address == "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"


def test_the_fields_of_the_example():
    message = siwe.parse(SPEC_FULL)
    assert (message.scheme, message.domain, message.uri, message.chain_id, message.nonce) == (
        "https", "example.com", "https://example.com/login", 1, "32891756")
    assert message.statement == "I accept the ExampleOrg Terms of Service: https://example.com/tos"
    assert message.request_id == "some-request_42"
    assert message.resources == ("https://example.com/my-web2-claim.json",)
    assert message.expires().isoformat() == "2021-10-01T16:25:24+00:00"
    assert message.starts().isoformat() == "2021-09-30T14:00:00+00:00"  # +02:00 read as UTC
    assert not message.valid_at(message.expires())  # expired at its Expiration Time exactly
    assert message.valid_at(message.issued_at_time())  # 16:25Z: after Not Before (14:00Z)
    assert not message.valid_at(message.starts().replace(minute=59, hour=13))
    assert message.valid_at(message.starts())


@pytest.mark.parametrize("broken, reason", [
    (SPEC.replace("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"),
     "EIP-55"),
    (SPEC.replace("0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc3"),
     "EIP-55"),
    (SPEC.replace("Version: 1", "Version: 2"), "Version"),
    (SPEC.replace("Nonce: 32891756", "Nonce: 1234567"), "Nonce"),  # 7 characters: too short
    (SPEC.replace("Nonce: 32891756", "Nonce: 3289-1756"), "Nonce"),
    (SPEC.replace("Chain ID: 1", "Chain ID: one"), "Chain ID"),
    (SPEC.replace("2021-09-30T16:25:24Z", "2021-09-30 16:25:24"), "Issued At"),
    (SPEC.replace("2021-09-30T16:25:24Z", "2021-13-30T16:25:24Z"), "RFC 3339"),
    (SPEC.replace(" wants you to", " would like you to"), "first line"),
    (SPEC.replace("URI: https://example.com/login", "URI: not a uri"), "URI"),
    (SPEC.replace("\n", "\r\n"), ""),
    (SPEC.replace("Terms of Service", "Terms\tof Service"), "statement"),
    (SPEC.replace("Resources:", "Resource:"), "unexpected"),
    (SPEC + "\n- not a uri", "resource"),
    (SPEC.replace("Version: 1\nChain ID: 1", "Chain ID: 1\nVersion: 1"), "Version"),
    ("", "first line"),
    (SPEC.split("URI:")[0], "incomplete"),
])
def test_malformed_messages_are_refused_with_a_reason(broken, reason):
    with pytest.raises(siwe.SiweError) as raised:
        siwe.parse(broken)
    assert reason in str(raised.value)


KEY = EthAccount.from_key("0x" + "11" * 32)


def test_a_personal_sign_recovers_to_its_signer_and_an_altered_text_does_not():
    message = replace(siwe.parse(NO_STATEMENT), address=KEY.address)
    text = siwe.render(message)
    signature = KEY.sign_message(encode_defunct(text=text)).signature.to_0x_hex()
    assert siwe.recover_eoa(text, signature) == KEY.address
    altered = text.replace("Chain ID: 31337", "Chain ID: 1")
    assert siwe.recover_eoa(altered, signature) not in (None, KEY.address)
    assert siwe.recover_eoa(text, "0x1234") is None
    assert siwe.recover_eoa(text, "0x" + "00" * 65) is None
    # the hash EIP-1271 wallets are given is the one personal_sign signs
    assert EthAccount._recover_hash(siwe.eip191_hash(text), signature=signature) == KEY.address


_alnum = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=8, max_size=40)
_label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
_host = st.builds(lambda labels, port: ".".join(labels) + (f":{port}" if port is not None else ""),
                  st.lists(_label, min_size=1, max_size=3), st.none() | st.integers(0, 65535))
_statement = st.none() | st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789 .,:;/?#[]@!$&'()*+=-_~",
                                 min_size=1, max_size=80)  # the ABNF's statement: 1*( reserved / unreserved / " " )
_time = st.datetimes(timezones=st.just(__import__("datetime").UTC)).map(
    lambda d: d.replace(microsecond=0).isoformat().replace("+00:00", "Z"))
_path = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/-._~", max_size=20)


@settings(max_examples=300, deadline=None)
@given(host=_host, scheme=st.none() | st.sampled_from(["https", "http"]), statement=_statement,
       path=_path, chain_id=st.integers(0, 2**64), nonce=_alnum, issued=_time,
       expires=st.none() | _time, not_before=st.none() | _time,
       request_id=st.none() | st.text(alphabet="abcdefghijk0123456789-._~:@!$&'()*+,;=%2F", max_size=20)
       .filter(lambda s: "%" not in s or s.count("%") == s.count("%2F")),
       resources=st.lists(_path.map(lambda p: f"https://example.com/{p}"), max_size=3),
       key=st.binary(min_size=20, max_size=20))
def test_every_message_built_from_the_abnf_round_trips(host, scheme, statement, path, chain_id, nonce, issued,
                                                       expires, not_before, request_id, resources, key):
    from eth_utils import to_checksum_address

    message = siwe.SiweMessage(domain=host, scheme=scheme, address=to_checksum_address(key), statement=statement,
                               uri=f"https://{host}/{path}", chain_id=chain_id, nonce=nonce, issued_at=issued,
                               expiration_time=expires, not_before=not_before, request_id=request_id,
                               resources=tuple(resources))
    text = siwe.render(message)
    assert siwe.parse(text) == message
    assert siwe.render(siwe.parse(text)) == text
