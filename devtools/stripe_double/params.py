"""Validation of the request parameters the double implements, with Stripe's error codes and messages.

Three kinds of parameter: the ones the double implements; real Stripe parameters that change nothing the double
models (accepted and ignored, listed in IGNORED_*); and everything else, refused with 400 so a misspelt or
unimplemented parameter fails loudly in tests instead of being silently dropped.
"""

from __future__ import annotations

import re
from typing import Any

from devtools.stripe_double import errors

ZERO_DECIMAL_CURRENCIES = {
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
}
MINIMUM_CHARGE = {"eur": 50, "usd": 50, "gbp": 30, "chf": 50}  # Stripe's minimum charge amounts (cents)
MAX_AMOUNT = 99_999_999
MIN_EXPIRY_S = 30 * 60
MAX_EXPIRY_S = 24 * 60 * 60

SESSION_IMPLEMENTED = {
    "mode", "line_items", "success_url", "cancel_url", "client_reference_id", "metadata", "customer_email",
    "expires_at", "payment_intent_data", "payment_method_types", "expand", "currency", "locale", "submit_type",
}
# Real parameters with no effect on what the double models (payment flow, amounts, events).
SESSION_IGNORED = {
    "adaptive_pricing", "after_expiration", "allow_promotion_codes", "allowed_payment_method_types", "automatic_tax",
    "billing_address_collection", "branding_settings", "consent_collection", "custom_fields", "custom_text",
    "customer_creation", "excluded_payment_method_types", "integration_identifier", "invoice_creation",
    "name_collection", "origin_context", "payment_method_collection", "payment_method_configuration",
    "payment_method_options", "phone_number_collection", "saved_payment_method_options",
    "shipping_address_collection", "tax_id_collection", "wallet_options",
}
SESSION_UNSUPPORTED = {
    "customer", "customer_account", "customer_update", "discounts", "managed_payments", "optional_items",
    "payment_method_data", "permissions", "redirect_on_completion", "return_url", "setup_intent_data",
    "shipping_options", "subscription_data", "ui_mode",
}
# Checkout's `locale` values (Stripe's API reference).
CHECKOUT_LOCALES = (
    "auto", "bg", "cs", "da", "de", "el", "en", "en-GB", "es", "es-419", "et", "fi", "fil", "fr", "fr-CA", "hr", "hu",
    "id", "it", "ja", "ko", "lt", "lv", "ms", "mt", "nb", "nl", "pl", "pt", "pt-BR", "ro", "ru", "sk", "sl", "sv", "th",
    "tr", "vi", "zh", "zh-HK", "zh-TW",
)
LINE_ITEM_KEYS = {"price", "price_data", "quantity", "metadata"}
LINE_ITEM_UNSUPPORTED = {"adjustable_quantity", "tax_rates", "dynamic_tax_rates"}
PRICE_DATA_KEYS = {"currency", "unit_amount", "unit_amount_decimal", "product_data", "product", "tax_behavior"}
PRICE_DATA_UNSUPPORTED = {"recurring"}
PRODUCT_DATA_KEYS = {"name", "description", "images", "metadata", "tax_code", "unit_label", "tax_details"}
PI_DATA_KEYS = {"metadata", "description", "receipt_email", "statement_descriptor", "statement_descriptor_suffix",
                "capture_method", "setup_future_usage", "shipping", "transfer_group"}
PI_DATA_UNSUPPORTED = {"application_fee_amount", "on_behalf_of", "transfer_data"}

REFUND_KEYS = {"payment_intent", "charge", "amount", "metadata", "reason", "expand", "instructions_email"}
REFUND_UNSUPPORTED = {"customer", "currency", "origin", "refund_application_fee", "reverse_transfer"}
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")

_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_keys(params: dict[str, Any], *, prefix: str, allowed: set[str], ignored: set[str] = frozenset(),
               unsupported: set[str] = frozenset()) -> None:
    for key in params:
        name = f"{prefix}[{key}]" if prefix else key
        if key in unsupported:
            raise errors.unsupported_param(name)
        if key not in allowed and key not in ignored:
            raise errors.unknown_param(name)


def as_dict(value: Any, param: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, list):  # `metadata[0]=x` parses as a list
        return {str(i): v for i, v in enumerate(value)}
    if not isinstance(value, dict):
        raise errors.StripeError(f"Invalid object: {param} must be a hash", param=param)
    return value


def as_list(value: Any, param: str) -> list[Any]:
    if value is None or value == "":
        return []
    if isinstance(value, dict) and not value:
        return []
    if not isinstance(value, list):
        raise errors.StripeError(f"Invalid array: {param} must be an array", param=param)
    return value


def as_str(value: Any, param: str, *, max_length: int | None = None) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise errors.StripeError(f"Invalid string: {param} must be a string", param=param)
    if max_length is not None and len(value) > max_length:
        raise errors.StripeError(
            f"Invalid string: {value[:40]}...; must be at most {max_length} characters", param=param)
    return value


def as_int(value: Any, param: str, *, minimum: int | None = None, positive: bool = False) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise errors.invalid_integer(param, value)
    try:
        number = int(value)
    except ValueError:
        raise errors.invalid_integer(param, value) from None
    if positive and number <= 0:
        raise errors.StripeError(f"Invalid positive integer: {value}", code="parameter_invalid_integer", param=param)
    if minimum is not None and number < minimum:
        raise errors.StripeError(f"This value must be greater than or equal to {minimum}.", param=param,
                                 code="parameter_invalid_integer")
    return number


def as_url(value: Any, param: str) -> str | None:
    url = as_str(value, param, max_length=5000)
    if url is not None and not _URL.match(url):
        raise errors.StripeError("Not a valid URL", code="url_invalid", param=param)
    return url


def as_email(value: Any, param: str) -> str | None:
    email = as_str(value, param, max_length=800)
    if email is not None and not _EMAIL.match(email):
        raise errors.StripeError(f"Invalid email address: {email}", code="email_invalid", param=param)
    return email


def metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    data = as_dict(value, param)
    if len(data) > 50:
        raise errors.StripeError("Invalid metadata: metadata can have up to 50 keys", param=param)
    out: dict[str, str] = {}
    for key, item in data.items():
        if len(key) > 40:
            raise errors.StripeError(f"Invalid metadata: keys can be up to 40 characters long ({key[:40]}...)",
                                     param=f"{param}[{key}]")
        if isinstance(item, (dict, list)):
            raise errors.StripeError("Invalid metadata: values must be strings", param=f"{param}[{key}]")
        if len(item) > 500:
            raise errors.StripeError("Invalid metadata: values can be up to 500 characters long",
                                     param=f"{param}[{key}]")
        if item != "":  # an empty value unsets the key
            out[key] = item
    return out


def expand(params: dict[str, Any]) -> list[str]:
    raw = params.get("expand")
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return [raw]
    return [str(v) for v in as_list(raw, "expand")]


def currency(value: Any, param: str) -> str:
    code = as_str(value, param)
    if code is None:
        raise errors.missing_param(param)
    code = code.lower()
    if not re.fullmatch(r"[a-z]{3}", code):
        raise errors.StripeError(f"Invalid currency: {code}", code="parameter_invalid_string", param=param)
    return code


def format_amount(amount: int, currency_code: str) -> str:
    """`2500, "eur"` -> `€25.00` (the way Checkout shows amounts)."""
    symbols = {"eur": "€", "usd": "$", "gbp": "£", "jpy": "¥", "chf": "CHF "}
    if currency_code in ZERO_DECIMAL_CURRENCIES:
        number = f"{amount:,}"
    else:
        number = f"{amount // 100:,}.{amount % 100:02d}"
    symbol = symbols.get(currency_code)
    return f"{symbol}{number}" if symbol else f"{number} {currency_code.upper()}"


def checkout_session_create(params: dict[str, Any], *, now: int) -> dict[str, Any]:
    """Validate `POST /v1/checkout/sessions` and return normalised values (line items with integer amounts)."""
    check_keys(params, prefix="", allowed=SESSION_IMPLEMENTED, ignored=SESSION_IGNORED,
               unsupported=SESSION_UNSUPPORTED)
    mode = as_str(params.get("mode"), "mode")
    if mode is None:
        raise errors.missing_param("mode")
    if mode not in ("payment", "setup", "subscription"):
        raise errors.StripeError("Invalid mode: must be one of payment, setup, or subscription", param="mode",
                                 code="parameter_invalid_string")
    if mode != "payment":
        raise errors.unsupported_param(f"mode={mode}")

    raw_items = as_list(params.get("line_items"), "line_items")
    if not raw_items:
        raise errors.StripeError(
            "Missing required param: line_items. In `payment` mode, you must specify `line_items`.",
            code="parameter_missing", param="line_items")
    if len(raw_items) > 100:
        raise errors.StripeError("You may only specify up to 100 line items.", param="line_items")
    items = [_line_item(raw, f"line_items[{i}]") for i, raw in enumerate(raw_items)]
    currencies = {item["currency"] for item in items}
    if len(currencies) > 1:
        raise errors.StripeError("All line items must use the same currency.", param="line_items")
    currency_code = items[0]["currency"]
    total = sum(item["amount_total"] for item in items)
    minimum = MINIMUM_CHARGE.get(currency_code, 50)
    if total < minimum:
        raise errors.StripeError(
            f"The Checkout Session's total amount due must add up to at least "
            f"{format_amount(minimum, currency_code)} {currency_code}", code="amount_too_small", param="line_items")
    if total > MAX_AMOUNT:
        raise errors.StripeError("The Checkout Session's total amount due is too large.", code="amount_too_large",
                                 param="line_items")

    success_url = as_url(params.get("success_url"), "success_url")
    if success_url is None:
        raise errors.missing_param("success_url")
    cancel_url = as_url(params.get("cancel_url"), "cancel_url")

    expires_at = as_int(params.get("expires_at"), "expires_at")
    if expires_at is None:
        expires_at = now + MAX_EXPIRY_S
    elif expires_at - now < MIN_EXPIRY_S:
        raise errors.StripeError(
            "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
            code="parameter_invalid_integer", param="expires_at")
    elif expires_at - now > MAX_EXPIRY_S:
        raise errors.StripeError(
            "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
            code="parameter_invalid_integer", param="expires_at")

    pi_data = as_dict(params.get("payment_intent_data"), "payment_intent_data")
    check_keys(pi_data, prefix="payment_intent_data", allowed=PI_DATA_KEYS, unsupported=PI_DATA_UNSUPPORTED)
    capture = as_str(pi_data.get("capture_method"), "payment_intent_data[capture_method]")
    if capture not in (None, "automatic", "automatic_async"):
        raise errors.unsupported_param(f"payment_intent_data[capture_method]={capture}")

    methods = as_list(params.get("payment_method_types"), "payment_method_types") or ["card"]
    locale = as_str(params.get("locale"), "locale")
    if locale is not None and locale not in CHECKOUT_LOCALES:
        raise errors.StripeError(f"Invalid locale: must be one of {', '.join(CHECKOUT_LOCALES)}", param="locale",
                                 code="parameter_invalid_string")
    return {
        "mode": mode,
        "line_items": items,
        "currency": currency_code,
        "amount_total": total,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": as_str(params.get("client_reference_id"), "client_reference_id", max_length=200),
        "metadata": metadata(params.get("metadata")),
        "customer_email": as_email(params.get("customer_email"), "customer_email"),
        "expires_at": expires_at,
        "locale": locale,
        "submit_type": as_str(params.get("submit_type"), "submit_type"),
        "payment_method_types": [str(m) for m in methods],
        "payment_intent_data": {
            "metadata": metadata(pi_data.get("metadata"), "payment_intent_data[metadata]"),
            "description": as_str(pi_data.get("description"), "payment_intent_data[description]", max_length=1000),
            "receipt_email": as_email(pi_data.get("receipt_email"), "payment_intent_data[receipt_email]"),
            "statement_descriptor": as_str(pi_data.get("statement_descriptor"),
                                           "payment_intent_data[statement_descriptor]", max_length=22),
            "statement_descriptor_suffix": as_str(pi_data.get("statement_descriptor_suffix"),
                                                  "payment_intent_data[statement_descriptor_suffix]", max_length=22),
            "transfer_group": as_str(pi_data.get("transfer_group"), "payment_intent_data[transfer_group]",
                                     max_length=5000),
        },
    }


def _line_item(raw: Any, prefix: str) -> dict[str, Any]:
    item = as_dict(raw, prefix)
    check_keys(item, prefix=prefix, allowed=LINE_ITEM_KEYS, unsupported=LINE_ITEM_UNSUPPORTED)
    if item.get("price"):
        # The double has no Prices API: a price id can never exist here.
        raise errors.resource_missing("price", str(item["price"]), f"{prefix}[price]", status=400)
    if "price_data" not in item:
        raise errors.StripeError(f"You must specify either `price` or `price_data` in {prefix}.",
                                 code="parameter_missing", param=f"{prefix}[price_data]")
    quantity = as_int(item.get("quantity"), f"{prefix}[quantity]")
    if quantity is None:
        raise errors.missing_param(f"{prefix}[quantity]")
    if quantity < 1 or quantity > 999_999:
        raise errors.StripeError("Quantity must be between 1 and 999999.", code="parameter_invalid_integer",
                                 param=f"{prefix}[quantity]")

    pd_prefix = f"{prefix}[price_data]"
    price_data = as_dict(item["price_data"], pd_prefix)
    check_keys(price_data, prefix=pd_prefix, allowed=PRICE_DATA_KEYS, unsupported=PRICE_DATA_UNSUPPORTED)
    currency_code = currency(price_data.get("currency"), f"{pd_prefix}[currency]")
    unit_amount = as_int(price_data.get("unit_amount"), f"{pd_prefix}[unit_amount]", minimum=0)
    if unit_amount is None and price_data.get("unit_amount_decimal") not in (None, ""):
        decimal = str(price_data["unit_amount_decimal"])
        try:
            value = float(decimal)
        except ValueError:
            raise errors.StripeError(f"Invalid decimal: {decimal}", param=f"{pd_prefix}[unit_amount_decimal]") from None
        if value != int(value):
            raise errors.unsupported_param(f"{pd_prefix}[unit_amount_decimal] with fractional cents")
        unit_amount = int(value)
    if unit_amount is None:
        raise errors.missing_param(f"{pd_prefix}[unit_amount]")
    if price_data.get("product"):
        raise errors.resource_missing("product", str(price_data["product"]), f"{pd_prefix}[product]", status=400)

    prod_prefix = f"{pd_prefix}[product_data]"
    if "product_data" not in price_data:
        raise errors.StripeError(f"You must specify either `product` or `product_data` in {pd_prefix}.",
                                 code="parameter_missing", param=prod_prefix)
    product_data = as_dict(price_data["product_data"], prod_prefix)
    check_keys(product_data, prefix=prod_prefix, allowed=PRODUCT_DATA_KEYS)
    name = as_str(product_data.get("name"), f"{prod_prefix}[name]", max_length=250)
    if name is None:
        raise errors.missing_param(f"{prod_prefix}[name]")
    images = [as_url(url, f"{prod_prefix}[images][{i}]")
              for i, url in enumerate(as_list(product_data.get("images"), f"{prod_prefix}[images]"))]
    if len(images) > 8:
        raise errors.StripeError("You may only specify up to 8 images.", param=f"{prod_prefix}[images]")
    return {
        "quantity": quantity,
        "currency": currency_code,
        "unit_amount": unit_amount,
        "amount_total": unit_amount * quantity,
        "product": {
            "name": name,
            "description": as_str(product_data.get("description"), f"{prod_prefix}[description]", max_length=40000),
            "images": images,
            "metadata": metadata(product_data.get("metadata"), f"{prod_prefix}[metadata]"),
        },
        "metadata": metadata(item.get("metadata"), f"{prefix}[metadata]"),
    }


def refund_create(params: dict[str, Any]) -> dict[str, Any]:
    check_keys(params, prefix="", allowed=REFUND_KEYS, unsupported=REFUND_UNSUPPORTED)
    reason = as_str(params.get("reason"), "reason")
    if reason is not None and reason not in REFUND_REASONS:
        raise errors.StripeError(
            "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
            code="parameter_invalid_string", param="reason")
    payment_intent = as_str(params.get("payment_intent"), "payment_intent")
    charge = as_str(params.get("charge"), "charge")
    if payment_intent is None and charge is None:
        raise errors.StripeError(
            "One of the following params should be provided for this request: payment_intent or charge.",
            code="parameter_missing")
    return {
        "payment_intent": payment_intent,
        "charge": charge,
        "amount": as_int(params.get("amount"), "amount", positive=True),
        "metadata": metadata(params.get("metadata")),
        "reason": reason,
    }


def list_page(params: dict[str, Any]) -> dict[str, Any]:
    limit = as_int(params.get("limit"), "limit", minimum=1)
    if limit is not None and limit > 100:
        raise errors.StripeError("This value must be less than or equal to 100.", param="limit",
                                 code="parameter_invalid_integer")
    return {
        "limit": limit or 10,
        "starting_after": as_str(params.get("starting_after"), "starting_after"),
        "ending_before": as_str(params.get("ending_before"), "ending_before"),
    }


def matches(obj: dict[str, Any], raw: dict[str, Any], fields: tuple[str, ...]) -> bool:
    return all(obj.get(f) == raw[f] for f in fields if raw.get(f) not in (None, "")) and \
        created_matches(obj, raw.get("created"))


def created_matches(obj: dict[str, Any], created: Any) -> bool:
    if created in (None, ""):
        return True
    if isinstance(created, str):
        return obj.get("created") == as_int(created, "created")
    bounds = as_dict(created, "created")
    value = obj.get("created", 0)
    checks = {"gt": value.__gt__, "gte": value.__ge__, "lt": value.__lt__, "lte": value.__le__}
    for op, bound in bounds.items():
        if op not in checks:
            raise errors.unknown_param(f"created[{op}]")
        if not checks[op](as_int(bound, f"created[{op}]")):
            return False
    return True


# -- Connect: accounts, account links, transfers, reversals ------------------------------------------------------

ACCOUNT_KEYS = {"type", "country", "email", "capabilities", "metadata", "business_type", "default_currency", "expand"}
# Real parameters that change nothing the double models (onboarding is the hosted page's business).
ACCOUNT_IGNORED = {"business_profile", "settings"}
ACCOUNT_UNSUPPORTED = {"account_token", "bank_account", "company", "controller", "documents", "external_account",
                       "groups", "individual", "tos_acceptance"}
ACCOUNT_UPDATE_KEYS = {"email", "metadata", "capabilities", "business_type", "default_currency", "expand"}
ACCOUNT_TYPES = ("custom", "express", "standard")
BUSINESS_TYPES = ("company", "government_entity", "individual", "non_profit")
ACCOUNT_LINK_KEYS = {"account", "refresh_url", "return_url", "type", "expand"}
ACCOUNT_LINK_IGNORED = {"collect", "collection_options"}
ACCOUNT_LINK_TYPES = ("account_onboarding", "account_update")
TRANSFER_KEYS = {"amount", "currency", "destination", "transfer_group", "source_transaction", "metadata",
                 "description", "source_type", "expand"}
TRANSFER_SOURCE_TYPES = ("bank_account", "card", "fpx")
TRANSFER_UPDATE_KEYS = {"metadata", "description", "expand"}
REVERSAL_KEYS = {"amount", "metadata", "description", "expand"}
REVERSAL_UNSUPPORTED = {"refund_application_fee"}


def _one_of(value: Any, param: str, choices: tuple[str, ...]) -> str | None:
    text = as_str(value, param)
    if text is not None and text not in choices:
        raise errors.StripeError(f"Invalid {param}: must be one of {', '.join(choices)}", param=param,
                                 code="parameter_invalid_string")
    return text


def country(value: Any, param: str = "country") -> str | None:
    code = as_str(value, param)
    if code is not None and not re.fullmatch(r"[A-Za-z]{2}", code):
        raise errors.StripeError(f"Country '{code}' is unknown. Try using a 2-character alphanumeric country code "
                                 "instead, such as 'US', 'EG', or 'GB'. A full list of country codes is available "
                                 "at https://stripe.com/global", param=param, code="country_unsupported")
    return code.upper() if code else None


def capabilities(value: Any, param: str = "capabilities") -> dict[str, bool]:
    """`capabilities[transfers][requested]=true` -> {"transfers": True}."""
    out: dict[str, bool] = {}
    for name, spec in as_dict(value, param).items():
        if not re.fullmatch(r"[a-z0-9_]+", name):
            raise errors.unknown_param(f"{param}[{name}]")
        spec = as_dict(spec, f"{param}[{name}]")
        check_keys(spec, prefix=f"{param}[{name}]", allowed={"requested"})
        requested = as_str(spec.get("requested"), f"{param}[{name}][requested]")
        if requested not in (None, "true", "false"):
            raise errors.StripeError(f"Invalid boolean: {requested}", param=f"{param}[{name}][requested]")
        out[name] = requested == "true"
    return out


def metadata_update(value: Any, param: str = "metadata") -> tuple[dict[str, str], set[str] | None]:
    """Stripe's metadata update: (keys to set, keys to unset); `metadata=""` unsets every key (None)."""
    if value == "":
        return {}, None
    data = as_dict(value, param)
    return metadata(data, param), {k for k, v in data.items() if v == ""}


def account_create(params: dict[str, Any]) -> dict[str, Any]:
    check_keys(params, prefix="", allowed=ACCOUNT_KEYS, ignored=ACCOUNT_IGNORED, unsupported=ACCOUNT_UNSUPPORTED)
    account_type = _one_of(params.get("type"), "type", ACCOUNT_TYPES)
    if account_type is None:
        raise errors.StripeError("You must specify the `type` of the account, or use `controller` properties.",
                                 code="parameter_missing", param="type")
    if account_type != "express":
        raise errors.unsupported_param(f"type={account_type}")
    caps = capabilities(params.get("capabilities"))
    if not any(caps.values()):
        raise errors.StripeError(
            "Express accounts must request at least one capability, e.g. capabilities[transfers][requested]=true.",
            code="parameter_missing", param="capabilities")
    return {
        "type": account_type,
        "country": country(params.get("country")) or "LU",  # the platform's country, as Stripe defaults
        "email": as_email(params.get("email"), "email"),
        "capabilities": caps,
        "metadata": metadata(params.get("metadata")),
        "business_type": _one_of(params.get("business_type"), "business_type", BUSINESS_TYPES),
        "default_currency": currency(params["default_currency"], "default_currency")
        if params.get("default_currency") else None,
    }


def account_update(params: dict[str, Any]) -> dict[str, Any]:
    check_keys(params, prefix="", allowed=ACCOUNT_UPDATE_KEYS, ignored=ACCOUNT_IGNORED,
               unsupported=ACCOUNT_UNSUPPORTED | {"type", "country"})
    values: dict[str, Any] = {}
    if "metadata" in params:
        values["metadata"] = metadata_update(params["metadata"])
    if "email" in params:
        values["email"] = as_email(params["email"], "email")
    if "capabilities" in params:
        values["capabilities"] = capabilities(params["capabilities"])
    if "business_type" in params:
        values["business_type"] = _one_of(params["business_type"], "business_type", BUSINESS_TYPES)
    if params.get("default_currency"):
        values["default_currency"] = currency(params["default_currency"], "default_currency")
    return values


def account_link_create(params: dict[str, Any]) -> dict[str, Any]:
    check_keys(params, prefix="", allowed=ACCOUNT_LINK_KEYS, ignored=ACCOUNT_LINK_IGNORED)
    account = as_str(params.get("account"), "account")
    if account is None:
        raise errors.missing_param("account")
    link_type = _one_of(params.get("type"), "type", ACCOUNT_LINK_TYPES)
    if link_type is None:
        raise errors.missing_param("type")
    refresh_url = as_url(params.get("refresh_url"), "refresh_url")
    return_url = as_url(params.get("return_url"), "return_url")
    for name, url in (("refresh_url", refresh_url), ("return_url", return_url)):
        if url is None:
            raise errors.missing_param(name)
    return {"account": account, "type": link_type, "refresh_url": refresh_url, "return_url": return_url}


def transfer_create(params: dict[str, Any]) -> dict[str, Any]:
    check_keys(params, prefix="", allowed=TRANSFER_KEYS)
    amount = as_int(params.get("amount"), "amount", positive=True)
    if amount is None:
        raise errors.missing_param("amount")
    if amount > MAX_AMOUNT:
        raise errors.StripeError("This value must be less than or equal to 99999999.", param="amount",
                                 code="amount_too_large")
    destination = as_str(params.get("destination"), "destination")
    if destination is None:
        raise errors.missing_param("destination")
    return {
        "amount": amount,
        "currency": currency(params.get("currency"), "currency"),
        "destination": destination,
        "transfer_group": as_str(params.get("transfer_group"), "transfer_group", max_length=5000),
        "source_transaction": as_str(params.get("source_transaction"), "source_transaction"),
        "metadata": metadata(params.get("metadata")),
        "description": as_str(params.get("description"), "description", max_length=5000),
        "source_type": _one_of(params.get("source_type"), "source_type", TRANSFER_SOURCE_TYPES) or "card",
    }


def reversal_create(params: dict[str, Any]) -> dict[str, Any]:
    check_keys(params, prefix="", allowed=REVERSAL_KEYS, unsupported=REVERSAL_UNSUPPORTED)
    return {
        "amount": as_int(params.get("amount"), "amount", positive=True),
        "metadata": metadata(params.get("metadata")),
        "description": as_str(params.get("description"), "description", max_length=5000),
    }
