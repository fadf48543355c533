"""EIP-4361 (Sign-In with Ethereum) messages: parse, render, and check a signature, with no FastAPI and no network.

The `siwe` package on PyPI pins web3 < 8, which this project cannot take; the format is small, so it is parsed here
line by line, following the EIP's ABNF:

    [ scheme "://" ] domain " wants you to sign in with your Ethereum account:" LF
    address LF                                   ; EIP-55 mixed-case checksum
    LF
    [ statement LF ]                             ; *( reserved / unreserved / " " ), no LF
    LF
    "URI: " uri LF                               ; RFC 3986 URI
    "Version: 1" LF
    "Chain ID: " 1*DIGIT LF
    "Nonce: " 8*( ALPHA / DIGIT ) LF
    "Issued At: " date-time                      ; RFC 3339
    [ LF "Expiration Time: " date-time ]
    [ LF "Not Before: " date-time ]
    [ LF "Request ID: " *pchar ]
    [ LF "Resources:" *( LF "- " uri ) ]

`render(parse(text)) == text` for every well-formed message (tested with the EIP's examples and hypothesis round
trips). The signature check is EIP-191 `personal_sign` recovered to the message's address (`recover_eoa`); contract
wallets (EIP-1271) are asked by the caller through the chain client (`eip191_hash` is the hash they are given).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from eth_account import Account as EthAccount
from eth_account.messages import defunct_hash_message, encode_defunct
from eth_utils import is_checksum_address

HEADER = " wants you to sign in with your Ethereum account:"
MAX_MESSAGE_CHARS = 4000

# RFC 3986 pieces (the ABNF's "reserved / unreserved" and pchar, plus percent-encoding for URIs)
_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_STATEMENT = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;= ]*")
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|%[0-9A-Fa-f]{{2}})"
_REQUEST_ID = re.compile(rf"{_PCHAR}*")
_SCHEME = r"[A-Za-z][A-Za-z0-9+\-.]*"
# authority = [ userinfo "@" ] host [ ":" port ]; host: reg-name, IPv4 or a bracketed IP literal
_AUTHORITY = (rf"(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|%[0-9A-Fa-f]{{2}})*@)?"
              rf"(?:\[[0-9A-Fa-f:.]+\]|(?:[{_UNRESERVED}{_SUB_DELIMS}]|%[0-9A-Fa-f]{{2}})*)(?::[0-9]*)?")
_DOMAIN_LINE = re.compile(rf"(?:(?P<scheme>{_SCHEME})://)?(?P<domain>{_AUTHORITY}){re.escape(HEADER)}")
_URI = re.compile(rf"{_SCHEME}:(?:[{_UNRESERVED}{_SUB_DELIMS}:@/?#\[\]]|%[0-9A-Fa-f]{{2}})*")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_NONCE = re.compile(r"[A-Za-z0-9]{8,}")
_CHAIN_ID = re.compile(r"[0-9]+")
# RFC 3339 date-time: full-date "T" full-time, fractional seconds optional, "Z" or a numeric offset
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})")


class SiweError(ValueError):
    """The text is not a well-formed EIP-4361 message (the reason says which part)."""


@dataclass(frozen=True)
class SiweMessage:
    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: str  # the RFC 3339 text as written (re-rendered byte for byte)
    version: str = "1"
    statement: str | None = None
    scheme: str | None = None
    expiration_time: str | None = None
    not_before: str | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = field(default_factory=tuple)

    def issued_at_time(self) -> datetime:
        return parse_time(self.issued_at)

    def expires(self) -> datetime | None:
        return parse_time(self.expiration_time) if self.expiration_time is not None else None

    def starts(self) -> datetime | None:
        return parse_time(self.not_before) if self.not_before is not None else None

    def valid_at(self, now: datetime) -> bool:
        """Not expired and not before its Not Before (both optional)."""
        expires, starts = self.expires(), self.starts()
        return (expires is None or now < expires) and (starts is None or now >= starts)


def parse_time(text: str) -> datetime:
    if not _DATE_TIME.fullmatch(text):
        raise SiweError(f"not an RFC 3339 date-time: {text!r}")
    value = text.upper().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise SiweError(f"not an RFC 3339 date-time: {text!r}") from None
    return parsed.astimezone(UTC)


def _field(lines: list[str], index: int, label: str, pattern: re.Pattern | None) -> str:
    if index >= len(lines) or not lines[index].startswith(label):
        raise SiweError(f"expected the line {label.strip()!r}")
    value = lines[index][len(label):]
    if pattern is not None and not pattern.fullmatch(value):
        raise SiweError(f"malformed {label.strip(': ')}: {value!r}")
    return value


def parse(text: str) -> SiweMessage:
    """The message of an EIP-4361 text, or SiweError. Strict: LF line ends, the fields in the EIP's order."""
    if not isinstance(text, str) or len(text) > MAX_MESSAGE_CHARS:
        raise SiweError("the message is too long")
    lines = text.split("\n")
    head = _DOMAIN_LINE.fullmatch(lines[0])
    if head is None or not head.group("domain"):
        raise SiweError("the first line must be '<domain> wants you to sign in with your Ethereum account:'")
    if len(lines) < 8:
        raise SiweError("the message is incomplete")
    address = lines[1]
    if not _ADDRESS.fullmatch(address) or not is_checksum_address(address):
        raise SiweError("the address must be an EIP-55 checksummed address")
    if lines[2] != "":
        raise SiweError("an empty line must follow the address")
    statement = None
    index = 3
    if lines[3] != "":  # a statement, then an empty line
        if not _STATEMENT.fullmatch(lines[3]):
            raise SiweError("the statement has characters EIP-4361 does not allow")
        statement = lines[3]
        if len(lines) < 5 or lines[4] != "":
            raise SiweError("an empty line must follow the statement")
        index = 5
    else:
        index = 4
    uri = _field(lines, index, "URI: ", _URI)
    version = _field(lines, index + 1, "Version: ", None)
    if version != "1":
        raise SiweError("Version must be 1")
    chain_id = _field(lines, index + 2, "Chain ID: ", _CHAIN_ID)
    nonce = _field(lines, index + 3, "Nonce: ", _NONCE)
    issued_at = _field(lines, index + 4, "Issued At: ", _DATE_TIME)
    parse_time(issued_at)
    rest = lines[index + 5:]
    optional: dict[str, str | None] = {"Expiration Time: ": None, "Not Before: ": None, "Request ID: ": None}
    position = 0
    for label in optional:
        if position < len(rest) and rest[position].startswith(label):
            value = rest[position][len(label):]
            if label == "Request ID: ":
                if not _REQUEST_ID.fullmatch(value):
                    raise SiweError("malformed Request ID")
            else:
                parse_time(value)
            optional[label] = value
            position += 1
    resources: list[str] = []
    if position < len(rest):
        if rest[position] != "Resources:":
            raise SiweError(f"unexpected line: {rest[position]!r}")
        for line in rest[position + 1:]:
            if not line.startswith("- ") or not _URI.fullmatch(line[2:]):
                raise SiweError(f"malformed resource: {line!r}")
            resources.append(line[2:])
    return SiweMessage(
        scheme=head.group("scheme"), domain=head.group("domain"), address=address, statement=statement, uri=uri,
        version=version, chain_id=int(chain_id), nonce=nonce, issued_at=issued_at,
        expiration_time=optional["Expiration Time: "], not_before=optional["Not Before: "],
        request_id=optional["Request ID: "], resources=tuple(resources))


def render(message: SiweMessage) -> str:
    """The EIP-4361 text of a message (what a wallet is asked to sign)."""
    prefix = f"{message.scheme}://" if message.scheme else ""
    lines = [f"{prefix}{message.domain}{HEADER}", message.address, ""]
    if message.statement is not None:
        lines += [message.statement, ""]
    else:
        lines += [""]
    lines += [f"URI: {message.uri}", f"Version: {message.version}", f"Chain ID: {message.chain_id}",
              f"Nonce: {message.nonce}", f"Issued At: {message.issued_at}"]
    if message.expiration_time is not None:
        lines.append(f"Expiration Time: {message.expiration_time}")
    if message.not_before is not None:
        lines.append(f"Not Before: {message.not_before}")
    if message.request_id is not None:
        lines.append(f"Request ID: {message.request_id}")
    if message.resources:
        lines.append("Resources:")
        lines += [f"- {resource}" for resource in message.resources]
    return "\n".join(lines)


def eip191_hash(text: str) -> bytes:
    """keccak256("\\x19Ethereum Signed Message:\\n" + len + text): what `personal_sign` signs and EIP-1271 checks."""
    return bytes(defunct_hash_message(text=text))


def recover_eoa(text: str, signature: str | bytes) -> str | None:
    """The address a `personal_sign` signature of `text` recovers to, or None when it is no valid signature."""
    try:
        return EthAccount.recover_message(encode_defunct(text=text), signature=signature)
    except Exception:  # noqa: BLE001 (malformed bytes, bad v, s out of range: no signer)
        return None
