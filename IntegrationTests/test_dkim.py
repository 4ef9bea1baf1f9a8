"""DKIM signatures (docs/EMAIL.md), verified by an independent verifier: dkimpy, with the
public keys `relance dkim keygen` printed served through its DNS hook."""

import email
import email.policy
import os
import re
import stat

import dkim
import pytest

from conftest import Relance

MESSAGES = ["pre-due", "reminder-1", "reminder-2", "formal-notice", "statement", "thanks"]


def keygen(r, tmp_path, selector, algorithm):
    path = tmp_path / f"{selector}.key"
    out = r.run("dkim", "keygen", "--selector", selector, "--domain", "lumen-conseil.fr", "--algorithm", algorithm,
                "--key-file", str(path)).stdout
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    line = [l for l in out.splitlines() if "._domainkey." in l][0]
    name, _, text = line.partition(" IN TXT ")
    record = "".join(re.findall(r'"([^"]*)"', text))
    assert record.startswith(f"v=DKIM1; k={algorithm}; p=")
    return path, name, record


def signed_installation(tmp_path, algorithms=("ed25519", "rsa")):
    r = Relance(tmp_path / "r", extra="letters:\n  attach_to_email: [formal-notice]\n")
    records = {}
    dkim_yaml = "  dkim:\n    domain: lumen-conseil.fr\n"
    for algorithm in algorithms:
        path, name, record = keygen(r, tmp_path, f"relance-{algorithm}", algorithm)
        records[name.encode()] = record.encode()
        dkim_yaml += f"    {algorithm}:\n      selector: relance-{algorithm}\n      key_file: {path}\n"
    text = r.config.read_text()
    r.config.write_text(text.replace("email:\n", "email:\n" + dkim_yaml, 1))
    r.run("migrate")
    return r, records


def dns(records):
    def lookup(name, timeout=5):
        return records.get(name if name.endswith(b".") else name + b".")
    return lookup


def passes(raw, index, records):
    """dkimpy's verdict; it raises (rather than answers False) on some mismatches."""
    try:
        return dkim.DKIM(raw).verify(idx=index, dnsfunc=dns(records))
    except dkim.DKIMException:
        return False


def verify_all(raw, records):
    """Every DKIM-Signature of `raw`, verified; returns the algorithms found."""
    signer = dkim.DKIM(raw)
    count = len([h for h in email.message_from_bytes(raw).get_all("DKIM-Signature") or []])
    found = []
    for index in range(count):
        assert signer.verify(idx=index, dnsfunc=dns(records)), (index, signer.signature_fields)
        found.append(signer.signature_fields[b"a"].decode())
        assert signer.signature_fields[b"c"] == b"relaxed/relaxed"
        assert b"l" not in signer.signature_fields
        signed = [name.strip() for name in signer.signature_fields[b"h"].split(b":")]
        # From over-signed (once more than present): no second From may be added.
        assert signed.count(b"from") == 2
        for header in (b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type"):
            assert header in signed
    return found


def test_every_shipped_email_verifies_with_both_algorithms(tmp_path):
    r, records = signed_installation(tmp_path)
    jobs = {}
    for locale in ("fr-FR", "en-GB"):
        for segment in ("standard", "strategic"):
            for kind in ("business", "consumer"):
                ref = f"P-{locale}-{segment}-{kind}"
                r.run("payer", "upsert", "--ref", ref, "--name", "Boulangerie Martin", "--locale", locale,
                      "--email", "compta@martin.example.fr", "--segment", segment, "--kind", kind,
                      # A British customer's office in Lyon: the country line says where the
                      # letter attached to the formal notice goes (without it, the en-GB
                      # locale would send it to the United Kingdom, and it is refused).
                      "--address-line", "12 rue des Tanneurs", "--address-line", "69002 Lyon",
                      "--address-line", "France")
                for message in MESSAGES:
                    jobs[r.enqueue(ref, template=message, case=f"{ref}-{message}")] = (ref, message)
    r.serve_until_idle(timeout=600)
    files = sorted((r.state / "outbox").glob("*.eml"))
    assert len(files) == len(jobs)
    attached = 0
    for path in files:
        raw = path.read_bytes()
        assert sorted(verify_all(raw, records)) == ["ed25519-sha256", "rsa-sha256"], path
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        _, message = jobs[int(parsed["X-Relance-Job"])]
        if message == "formal-notice":
            assert any(part.get_content_type() == "application/pdf" for part in parsed.iter_attachments())
            attached += 1
    assert attached == 8


def test_a_message_altered_in_transit_fails(tmp_path):
    r, records = signed_installation(tmp_path)
    r.payer("FR", "Boulangerie Martin", "fr-FR", "compta@martin.example.fr")
    r.enqueue("FR", case="C-1")
    r.serve_until_idle()
    raw = next((r.state / "outbox").glob("*.eml")).read_bytes()
    assert verify_all(raw, records)
    # The amount in the body, the subject, and an added Reply-To (payment-fraud redirect).
    body_at = raw.index(b"\r\n\r\n") + 4
    digit = re.search(rb"[0-9]", raw[body_at:]).start() + body_at
    tampered_body = raw[:digit] + (b"9" if raw[digit:digit + 1] != b"9" else b"8") + raw[digit + 1:]
    tampered_subject = re.sub(rb"\r\nSubject: ", b"\r\nSubject: URGENT ", raw, count=1)
    added_reply_to = raw[:body_at - 2] + b"Reply-To: <pay@attacker.example>\r\n" + raw[body_at - 2:]
    # Re-folding white space is allowed by relaxed canonicalization.
    refolded = re.sub(rb"\r\nSubject: ", b"\r\nSubject:   ", raw, count=1)
    assert dkim.DKIM(refolded).verify(dnsfunc=dns(records))
    for altered in (tampered_body, tampered_subject, added_reply_to):
        for index in range(2):
            assert not passes(altered, index, records)


def test_dkim_configuration_errors_name_the_key(tmp_path):
    r = Relance(tmp_path / "r")
    ed_path, _, _ = keygen(r, tmp_path, "ed", "ed25519")
    rsa_path, _, _ = keygen(r, tmp_path, "rs", "rsa")
    base = r.config.read_text()

    def check(dkim_yaml):
        r.config.write_text(base.replace("email:\n", "email:\n" + dkim_yaml, 1))
        return r.run("config", "check", check=False)

    ok = check(f"  dkim:\n    ed25519:\n      selector: ed\n      key_file: {ed_path}\n")
    assert ok.returncode == 0, ok.stderr
    assert "PRIVATE KEY" not in ok.stdout + ok.stderr
    doctor = r.run("doctor", check=False).stdout
    assert "dkim ed25519" in doctor and "ed._domainkey.lumen-conseil.fr" in doctor and "k=ed25519; p=" in doctor
    # Not aligned with the From domain (DMARC).
    bad = check(f"  dkim:\n    domain: other.example\n    ed25519:\n      selector: ed\n      key_file: {ed_path}\n")
    assert bad.returncode != 0 and "email.dkim.domain" in bad.stderr and "aligned" in bad.stderr
    # A parent domain is aligned.
    parent = Relance(tmp_path / "p")
    parent.config.write_text(parent.config.read_text().replace(
        "from: relances@lumen-conseil.fr", "from: relances@factures.lumen-conseil.fr").replace(
        "email:\n", f"email:\n  dkim:\n    domain: lumen-conseil.fr\n    ed25519:\n      selector: ed\n      key_file: {ed_path}\n", 1))
    assert parent.run("config", "check", check=False).returncode == 0
    # The RSA key in the Ed25519 slot.
    wrong = check(f"  dkim:\n    ed25519:\n      selector: ed\n      key_file: {rsa_path}\n")
    assert wrong.returncode != 0 and "holds an RSA key" in wrong.stderr
    # A selector without its key, a key without its selector.
    half = check("  dkim:\n    rsa:\n      selector: rs\n")
    assert half.returncode != 0 and "email.dkim.rsa.key_file" in half.stderr
    # Not a key; a short RSA key; a bad selector.
    junk = tmp_path / "junk.key"
    junk.write_text("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n")
    assert "not a PEM private key" in check(
        f"  dkim:\n    ed25519:\n      selector: ed\n      key_file: {junk}\n").stderr
    short = tmp_path / "short.key"
    import subprocess
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", str(short)],
                   check=True, capture_output=True)
    assert "2048 bits or more" in check(f"  dkim:\n    rsa:\n      selector: rs\n      key_file: {short}\n").stderr
    assert "not a DNS name" in check(
        f"  dkim:\n    ed25519:\n      selector: 'ed;x'\n      key_file: {ed_path}\n").stderr
    # Two keys in one file (OpenSSL would take the first); a fully qualified domain is fine.
    both = tmp_path / "both.key"
    both.write_text(ed_path.read_text() + rsa_path.read_text())
    assert "more than one PEM block" in check(
        f"  dkim:\n    ed25519:\n      selector: ed\n      key_file: {both}\n").stderr
    assert check(f"  dkim:\n    domain: lumen-conseil.fr.\n    ed25519:\n      selector: ed\n      key_file: {ed_path}\n"
                 ).returncode == 0
    # keygen: --bits belongs to RSA; the algorithm's case does not matter.
    bits = r.run("dkim", "keygen", "--selector", "b", "--domain", "lumen-conseil.fr", "--bits", "1024",
                 "--key-file", str(tmp_path / "b.key"), check=False)
    assert bits.returncode != 0 and "--bits is for RSA" in bits.stderr and not (tmp_path / "b.key").exists()
    r.run("dkim", "keygen", "--selector", "c", "--domain", "lumen-conseil.fr", "--algorithm", "RSA",
          "--key-file", str(tmp_path / "c.key"))
    # keygen never overwrites a key.
    again = r.run("dkim", "keygen", "--selector", "ed", "--domain", "lumen-conseil.fr", "--key-file", str(ed_path),
                  check=False)
    assert again.returncode != 0 and "exists" in again.stderr


@pytest.mark.parametrize("algorithm", ["ed25519", "rsa"])
def test_one_algorithm_alone(tmp_path, algorithm):
    r, records = signed_installation(tmp_path, algorithms=(algorithm,))
    r.payer("FR", "Boulangerie Martin", "fr-FR", "compta@martin.example.fr")
    r.enqueue("FR", template="thanks", case="C-1")
    r.serve_until_idle()
    raw = next((r.state / "outbox").glob("*.eml")).read_bytes()
    assert verify_all(raw, records) == [f"{algorithm}-sha256"]


def test_a_sighup_rotates_the_keys(tmp_path):
    """Keys are read at start and again at each SIGHUP: a new selector and key signs the
    next messages; a broken key file keeps the running configuration."""
    import signal
    import time
    import subprocess
    from conftest import BIN, wait_for
    r, records = signed_installation(tmp_path, algorithms=("ed25519",))
    r.payer("FR", "Boulangerie Martin", "fr-FR", "compta@martin.example.fr")
    daemon = subprocess.Popen([BIN, "serve"], env=dict(__import__("os").environ, RELANCE_CONFIG=str(r.config)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    outbox = r.state / "outbox"
    try:
        def sent(n):
            return wait_for(lambda: len(list(outbox.glob("*.eml"))) >= n if outbox.exists() else False, 60)
        r.enqueue("FR", case="C-1")
        assert sent(1)
        path, name, record = keygen(r, tmp_path, "relance-2027", "ed25519")
        records[name.encode()] = record.encode()
        r.config.write_text(r.config.read_text().replace("selector: relance-ed25519", "selector: relance-2027")
                            .replace(str(tmp_path / "relance-ed25519.key"), str(path)))
        daemon.send_signal(signal.SIGHUP)
        time.sleep(2)
        r.enqueue("FR", case="C-2")
        assert sent(2)
        # A key file that no longer reads: the reload is refused, the running keys stay.
        # (The job is enqueued first, due a few seconds later: the CLI reads the broken
        # configuration too, and would refuse.)
        import datetime
        due = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        r.enqueue("FR", case="C-3", extra=("--run-at", due))
        path.write_text("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
        daemon.send_signal(signal.SIGHUP)
        assert sent(3)
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
    selectors = {}
    for message in sorted(outbox.glob("*.eml")):
        raw = message.read_bytes()
        signer = dkim.DKIM(raw)
        assert signer.verify(dnsfunc=dns(records)), message
        case = email.message_from_bytes(raw)["X-Relance-Case"]
        selectors[case] = signer.signature_fields[b"s"].decode()
    assert selectors == {"C-1": "relance-ed25519", "C-2": "relance-2027", "C-3": "relance-2027"}, selectors
