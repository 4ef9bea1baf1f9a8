"""ISO 20022 bank-to-customer messages for the statement import's tests: camt.053
statements (001.02, 001.08) and camt.054 notifications (001.02, 001.08) built from a list
of entry dicts. Every document is valid against the ISO 20022 schema of its version
(IntegrationTests/test_camt_schema.py checks each with xmllint).

An entry dict (every key optional but `amount`):

    amount          "120.50", Decimal or int: written with the currency's minor units
    currency        "EUR"
    credit          True (CRDT) or False (DBIT)
    reversal        True for RvslInd
    status          "BOOK" (or "PDNG", "INFO")
    booking_date    "2026-03-01" (Dt) or "2026-03-01T10:00:00+01:00" (DtTm); None leaves it out
    value_date      the same; defaults to booking_date
    acct_svcr_ref   the entry's AcctSvcrRef
    batch           a list of transaction dicts: one TxDtls each (a batch entry). Without
                    it, the entry's own transaction keys below make one TxDtls (none at all
                    when it has none of them)

A transaction dict (or the entry itself): amount (defaults to the entry's), debtor_name,
debtor_iban, e2e (EndToEndId; "NOTPROVIDED" is written as such), rf (a structured
creditor reference, CdtrRefInf/Ref with type SCOR), ustrd (a list of unstructured lines),
acct_svcr_ref (Refs/AcctSvcrRef; for a lone transaction `tx_acct_svcr_ref`).

    import camt
    xml = camt.statement([{"amount": "120.50", "debtor_name": "Jean Dupont", "rf": "RF18539007547034",
                           "acct_svcr_ref": "BANKREF-1"}], version="001.02")
"""

from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:{kind}.{version}"
VERSIONS = {"camt.053": ("001.02", "001.08"), "camt.054": ("001.02", "001.08")}
MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "XOF": 0, "XAF": 0, "BHD": 3, "KWD": 3, "TND": 3, "OMR": 3, "JOD": 3}
TRANSACTION_KEYS = ("debtor_name", "debtor_iban", "e2e", "rf", "ustrd", "tx_acct_svcr_ref")


def amount_text(amount, currency):
    """The amount as the schema takes it: a non-negative decimal, the currency's minor units."""
    value = Decimal(str(amount))
    if value < 0:
        raise ValueError(f"a camt amount is never negative: {amount}")
    digits = MINOR_UNITS.get(currency, 2)
    return f"{value:.{digits}f}"


def _text(tag, value):
    return f"<{tag}>{escape(str(value))}</{tag}>"


def _amount(tag, amount, currency):
    return f"<{tag} Ccy={quoteattr(currency)}>{amount_text(amount, currency)}</{tag}>"


def _date(tag, value):
    if value is None:
        return ""
    inner = "DtTm" if "T" in value else "Dt"
    return f"<{tag}><{inner}>{escape(value)}</{inner}></{tag}>"


def _bank_code(credit):
    family = "RCDT" if credit else "ICDT"
    return ("<BkTxCd><Domn><Cd>PMNT</Cd><Fmly>" + _text("Cd", family) + "<SubFmlyCd>ESCT</SubFmlyCd>"
            "</Fmly></Domn></BkTxCd>")


def _transaction(tx, entry, version, lone):
    """One TxDtls, its elements in the schema's order."""
    currency = entry.get("currency", "EUR")
    credit = entry.get("credit", True)
    out = ["<TxDtls>"]
    reference = tx.get("tx_acct_svcr_ref") if lone else tx.get("acct_svcr_ref")
    if reference or tx.get("e2e"):
        out.append("<Refs>")
        if reference:
            out.append(_text("AcctSvcrRef", reference))
        if tx.get("e2e"):
            out.append(_text("EndToEndId", tx["e2e"]))
        out.append("</Refs>")
    amount = tx.get("amount", entry["amount"])
    if version == "001.02":
        out.append("<AmtDtls><TxAmt>" + _amount("Amt", amount, currency) + "</TxAmt></AmtDtls>")
    else:
        out.append(_amount("Amt", amount, currency) + _text("CdtDbtInd", "CRDT" if credit else "DBIT"))
    if tx.get("debtor_name") or tx.get("debtor_iban"):
        out.append("<RltdPties>")
        if tx.get("debtor_name"):
            name = _text("Nm", tx["debtor_name"])
            out.append(f"<Dbtr>{name}</Dbtr>" if version == "001.02" else f"<Dbtr><Pty>{name}</Pty></Dbtr>")
        if tx.get("debtor_iban"):
            out.append("<DbtrAcct><Id>" + _text("IBAN", tx["debtor_iban"]) + "</Id></DbtrAcct>")
        out.append("</RltdPties>")
    if tx.get("ustrd") or tx.get("rf"):
        out.append("<RmtInf>")
        out.extend(_text("Ustrd", line) for line in tx.get("ustrd", ()))
        if tx.get("rf"):
            out.append("<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp>"
                       + _text("Ref", tx["rf"]) + "</CdtrRefInf></Strd>")
        out.append("</RmtInf>")
    out.append("</TxDtls>")
    return "".join(out)


def _entry(entry, version):
    """One Ntry, its elements in the schema's order."""
    currency = entry.get("currency", "EUR")
    credit = entry.get("credit", True)
    status = entry.get("status", "BOOK")
    booking = entry.get("booking_date", "2026-03-01")
    out = ["<Ntry>", _amount("Amt", entry["amount"], currency), _text("CdtDbtInd", "CRDT" if credit else "DBIT")]
    if entry.get("reversal"):
        out.append("<RvslInd>true</RvslInd>")
    out.append(_text("Sts", status) if version == "001.02" else "<Sts>" + _text("Cd", status) + "</Sts>")
    out.append(_date("BookgDt", booking))
    out.append(_date("ValDt", entry.get("value_date", booking)))
    if entry.get("acct_svcr_ref"):
        out.append(_text("AcctSvcrRef", entry["acct_svcr_ref"]))
    out.append(_bank_code(credit))
    batch = entry.get("batch")
    if batch:
        out.append("<NtryDtls><Btch>" + _text("NbOfTxs", len(batch)) + "</Btch>")
        out.extend(_transaction(tx, entry, version, lone=False) for tx in batch)
        out.append("</NtryDtls>")
    elif any(entry.get(key) for key in TRANSACTION_KEYS):
        out.append("<NtryDtls>" + _transaction(entry, entry, version, lone=True) + "</NtryDtls>")
    out.append("</Ntry>")
    return "\n        ".join(part for part in out if part)


def _balances(entries, opening, currency, date):
    """Opening and closing booked balances (the closing one from the booked entries)."""
    closing = Decimal(str(opening))
    for entry in entries:
        if entry.get("status", "BOOK") == "BOOK" and entry.get("currency", currency) == currency:
            value = Decimal(str(entry["amount"]))
            closing += value if entry.get("credit", True) else -value
    out = []
    for code, value in (("OPBD", Decimal(str(opening))), ("CLBD", closing)):
        out.append("<Bal><Tp><CdOrPrtry>" + _text("Cd", code) + "</CdOrPrtry></Tp>" + _amount("Amt", abs(value), currency)
                   + _text("CdtDbtInd", "CRDT" if value >= 0 else "DBIT") + "<Dt>" + _text("Dt", date) + "</Dt></Bal>")
    return "\n      ".join(out)


def document(kind, entries, version="001.08", report_id="STMT-2026-061", account_iban="FR7630006000011234567890189",
             account_other=None, account_currency="EUR", message_id="MSG-1", created="2026-03-02T06:00:00",
             opening_balance="1000.00"):
    """A camt.053 (kind "camt.053") or camt.054 ("camt.054") document as text. The account
    is `account_iban`, or the bank's other id `account_other` when given."""
    if version not in VERSIONS.get(kind, ()):
        raise ValueError(f"{kind}.{version} is not one this generator writes ({VERSIONS})")
    message, report = ("BkToCstmrStmt", "Stmt") if kind == "camt.053" else ("BkToCstmrDbtCdtNtfctn", "Ntfctn")
    account_id = (_text("IBAN", account_iban) if account_other is None
                  else "<Othr>" + _text("Id", account_other) + "</Othr>")
    account = f"<Acct><Id>{account_id}</Id>" + (_text("Ccy", account_currency) if account_currency else "") + "</Acct>"
    balances = (_balances(entries, opening_balance, account_currency or "EUR", created[:10])
                if kind == "camt.053" else "")
    body = "\n      ".join(part for part in (
        _text("Id", report_id), _text("CreDtTm", created), account, balances,
        *(_entry(entry, version) for entry in entries)) if part)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<Document xmlns="{NAMESPACE.format(kind=kind, version=version)}">\n'
            f"  <{message}>\n"
            f"    <GrpHdr>{_text('MsgId', message_id)}{_text('CreDtTm', created)}</GrpHdr>\n"
            f"    <{report}>\n      {body}\n    </{report}>\n"
            f"  </{message}>\n"
            f"</Document>\n")


def statement(entries, version="001.08", **options):
    """A camt.053 bank-to-customer statement."""
    return document("camt.053", entries, version=version, **options)


def notification(entries, version="001.08", **options):
    """A camt.054 bank-to-customer debit/credit notification."""
    return document("camt.054", entries, version=version, **options)


# The movements the tests use: each case the reader must handle, once.
SAMPLE_ENTRIES = [
    {"amount": "120.50", "acct_svcr_ref": "BANKREF-0001", "booking_date": "2026-03-01", "value_date": "2026-03-02",
     "debtor_name": "Jean Dupont & Fils <SARL>", "debtor_iban": "DE89370400440532013000", "e2e": "E2E-F2026-0042",
     "ustrd": ["Facture F-2026-0042", "merci"]},
    {"amount": "60.00", "acct_svcr_ref": "BATCH-77", "batch": [
        {"amount": "10.00", "debtor_name": "Alice", "e2e": "B-1", "ustrd": ["F-1"]},
        {"amount": "20.00", "debtor_name": "Bob", "e2e": "B-2", "ustrd": ["F-2"], "acct_svcr_ref": "TX-2"},
        {"amount": "30.00", "debtor_name": "Carol", "e2e": "B-3", "rf": "RF18539007547034"}]},
    {"amount": "15.99", "credit": False, "acct_svcr_ref": "BANKREF-0003"},
    {"amount": "120.50", "credit": False, "reversal": True, "acct_svcr_ref": "BANKREF-0004"},
    {"amount": "99.9", "currency": "USD", "tx_acct_svcr_ref": "TX-USD-5", "debtor_name": "ACME Corp.",
     "e2e": "US-INV-5", "ustrd": ["INV 5"]},
    {"amount": 42, "acct_svcr_ref": "BANKREF-0006", "e2e": "NOTPROVIDED", "debtor_name": "Émilie Müller",
     "debtor_iban": "BE68539007547034", "rf": "RF18539007547034"},
    {"amount": "7", "status": "PDNG", "booking_date": "2026-03-01T23:59:59.123+01:00",
     "value_date": "2026-03-02T00:00:00Z", "e2e": "E2E-7", "ustrd": ["F-7"]},
    {"amount": "1500", "currency": "JPY", "acct_svcr_ref": "JPY-1", "debtor_name": "山田太郎"},
]


if __name__ == "__main__":
    import sys

    kind, version = (sys.argv[1:3] + ["camt.053", "001.08"][len(sys.argv[1:3]):])
    sys.stdout.write(document(kind, SAMPLE_ENTRIES, version=version))
