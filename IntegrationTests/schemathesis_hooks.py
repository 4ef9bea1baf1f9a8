"""Schemathesis hooks for Relance (SCHEMATHESIS_HOOKS, see test_schemathesis.py).

`positive_data_accepted` replaces schemathesis' own `positive_data_acceptance`, which
wants every request the document allows to be accepted. Relance refuses some of them
with 422 for rules no JSON Schema can state, and openapi.yaml says so in the field's
description: a reference to something that must exist (a payer, a scenario, a template,
a segment the configured templates know), a phone number against its country's
numbering plan, one field against another (a body `ref` against the path, an issue date
after the due date), a date against today. This check lets a 422 through only when
every field it names is refused for one of those rules, matched on pointer and words;
any other refusal of valid data fails the run, as the original check would.
"""

import json
import re

import schemathesis

try:  # the coverage phase's probes of the server's HTTP handling, as the built-in check skips them
    from schemathesis.specs.openapi.checks import is_unexpected_http_status_case
except ImportError:  # pragma: no cover - older or newer schemathesis
    def is_unexpected_http_status_case(case):
        return False

ACCEPTED = {401, 403, 404, 409, 429}

# (pointer pattern, message pattern, the rule) for each 422 the document describes and a
# schema cannot express.
SEMANTIC = [
    (r"(/\d+)?/payer_ref$", r"^payer .* does not exist", "the payer must exist"),
    (r"(/\d+)?/payer_ref$", r"^payer .* is unusable", "a payer row written by SQL that cannot be used"),
    (r"(/\d+)?(/payer)?/phone$", r"is not a valid phone number|has no phone number", "numbering plans"),
    (r"(/\d+)?(/payer)?/email$", r"has no e-mail address|is not a valid e-mail address|domain|local part",
     "a job's channel needs the payer's address"),
    (r"(/\d+)?(/payer)?/postal_address$", r"postal address|no postal address|NF Z10-011|window|fonts",
     "NF Z10-011 and the envelope window"),
    (r"(/\d+)?(/payer)?/segment$", r"^unknown segment", "segments the configured templates know"),
    (r"(/\d+)?/template$", r"unknown template|has no .* part|no template", "the configured templates"),
    (r"^/ref$", r"^differs from the path", "the body's ref against the path"),
    (r"(/\d+)?/payer_ref$", r"differs from payer.ref", "payer_ref against the inline payer's ref"),
    (r"/\d+/payer$", r"^differs from the payer .* in the same batch", "one profile per payer in a batch"),
    (r"(/\d+)?/idempotency_key$", r"^differs from the Idempotency-Key header", "the body's key against the header"),
    (r"(/\d+)?(/payer)?/(ref|payer_ref|case_ref|idempotency_key|number|name|line)$", r"not in Unicode NFC",
     "Unicode normalisation"),
    (r"^/scenario$", r"no scenario", "the configured scenarios"),
    (r"(/\d+)?/run_at$", r"retry.max_age", "run_at against today"),
    (r"(/\d+)?(/payer)?/timezone$", r"is not an IANA time zone", "the IANA time zone database"),
    (r"(/\d+)?(/payer)?/locale$", r"locale|language", "BCP 47 registries"),
    (r"(/\d+)?/data(/.*)?$", r".", "each message's data rules (docs/TEMPLATES.md)"),
    (r"(/amount)?(/currency)?$", r"not an active ISO 4217 currency|the invoice's currency|is in ",
     "ISO 4217 and the invoice's currency"),
    (r"/amount$", r"decimals|minor unit|more than", "the currency's minor unit"),
    (r"^/(issue_date|due_date|date)$", r"after|before|year", "dates against each other and a sane range"),
    (r"^/amount(/amount)?$", r"balance|more than the balance|overpay", "a payment within the balance"),
    (r"^$", r"^line \d+, column \d+|^the request has no body: send a camt",
     "a camt.053/054 document, held to its own ISO 20022 schema (docs/PAYMENTS.md)"),
]


def semantic_only(body):
    try:
        fields = json.loads(body)["error"]["fields"]
    except (ValueError, KeyError, TypeError):
        return False, "not the documented error body"
    unexplained = [f for f in fields
                   if not any(re.search(p, f.get("pointer", "")) and re.search(m, f.get("message", ""))
                              for p, m, _ in SEMANTIC)]
    return not unexplained, unexplained


@schemathesis.check
def positive_data_accepted(ctx, response, case):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or is_unexpected_http_status_case(case):
        return None
    status = response.status_code
    if 200 <= status < 400 or status in ACCEPTED or status >= 500:  # 5xx: not_a_server_error's
        return None
    if status == 422:
        ok, unexplained = semantic_only(response.text)
        if ok:
            return None
        raise AssertionError(f"Valid data refused with 422 for a rule the document does not state: {unexplained}")
    raise AssertionError(f"Valid data refused with {status}: {response.text[:500]}")
