"""What exactly was sent (docs/CONSOLE.md, "Evidence"): the message archive against a real
SMTP server (aiosmtpd) and the letters' spool, read back through the CLI and the HTTP API,
and a case exported with its hash chain, checked by unzip and sha256sum, then altered."""

import hashlib
import json
import sqlite3
import subprocess
import zipfile

import pytest

from api_support import ApiServer, job_body
from conftest import Relance


def content(r, job, *extra):
    out = r.root / f"content-{job}-{len(extra)}.bin"
    result = r.run("jobs", "show", str(job), "--content", "--out", str(out), *extra)
    return out.read_bytes(), result.stderr


def rendered_hash(r, job, attempt=1):
    rows = r.sql("SELECT detail FROM delivery_events WHERE job_id = ? AND event = 'rendered' AND attempt = ?",
                 (job, attempt))
    return json.loads(rows[0]["detail"])["content_sha256"]


def test_the_archive_holds_the_bytes_the_smtp_server_and_the_spool_received(tmp_path, smtp):
    r = Relance(tmp_path, smtp_port=smtp.port, extra="letters:\n  transport: spool\n")
    r.run("migrate")
    r.run("payer", "upsert", "--ref", "ACME", "--name", "Boulangerie Martin & Fils", "--locale", "fr-FR",
          "--email", "compta@martin.example.fr", "--channels", "email,letter",
          "--address-line", "Boulangerie Martin", "--address-line", "12 rue des Lilas", "--address-line", "75011 Paris")
    mail = r.enqueue("ACME", case="F-1")
    letter = r.enqueue("ACME", case="F-1", extra=("--channel", "letter"))
    r.serve_until_idle()
    assert smtp.count() == 1
    sent, note = content(r, mail)
    assert sent == smtp.messages[0][2], "the archived MIME is the message the server received, byte for byte"
    assert hashlib.sha256(sent).hexdigest() == rendered_hash(r, mail)
    assert "hash checked against the trace" in note
    pdf, _ = content(r, letter)
    spooled = (r.state / "spool" / f"job-{letter}-1.pdf").read_bytes()
    assert pdf == spooled and pdf.startswith(b"%PDF-")
    # Another attempt, or a job never sent, is said plainly.
    missing = r.run("jobs", "show", str(mail), "--content", "--attempt", "2", check=False)
    assert missing.returncode == 1 and "never handed to a provider" in missing.stderr
    # Today's rendering says it is not the archive.
    assert "not necessarily what was sent" in r.run("render", str(mail)).stderr
    # Bytes altered in the database are refused, never served as evidence.
    r.sql("UPDATE message_archive SET content = X'00', compression = 'none', size = 1 WHERE media_type = 'application/pdf'")
    broken = r.run("jobs", "show", str(letter), "--content", check=False)
    assert broken.returncode == 1 and "is corrupted" in broken.stderr and broken.stdout == ""


def test_the_api_serves_the_archived_bytes_with_their_hash(tmp_path, smtp):
    node = ApiServer(tmp_path / "api", smtp_port=smtp.port)
    node.start()
    try:
        node.put_payer("ACME")
        job = node.enqueue(job_body("ACME", case_ref="F-2"))
        node.wait_job(job["id"], ("sent",))
        got = node.get(f"/v1/jobs/{job['id']}/content", token="read")
        assert got.status_code == 200, got.text
        assert got.headers["Content-Type"] == "message/rfc822"
        assert got.content == smtp.messages[0][2]
        assert got.headers["X-Content-SHA256"] == hashlib.sha256(got.content).hexdigest()
        assert got.headers["X-Relance-Attempt"] == "1"
        assert node.get(f"/v1/jobs/{job['id']}/content", token=None).status_code == 401
        assert node.get(f"/v1/jobs/{job['id']}/content", params={"attempt": "2"}).status_code == 404
        assert node.get(f"/v1/jobs/{job['id']}/content", params={"attempt": "0"}).status_code == 422
        assert node.get("/v1/jobs/999999/content").status_code == 404
    finally:
        node.stop()


def test_a_case_export_holds_history_messages_and_an_intact_chain_and_tells_tampering(tmp_path, smtp):
    r = Relance(tmp_path, smtp_port=smtp.port)
    r.run("migrate")
    r.run("payer", "upsert", "--ref", "ACME", "--name", "Boulangerie Martin", "--locale", "fr-FR",
          "--email", "compta@martin.example.fr")
    first = r.enqueue("ACME", case="F-3")
    second = r.enqueue("ACME", template="reminder-2", case="F-3")
    other = r.enqueue("ACME", case="F-4")
    r.serve_until_idle()
    path = tmp_path / "f-3.zip"
    out = r.run("case", "export", "F-3", "--out", str(path)).stdout
    assert "10 sealed event(s), 2 message(s)" in out, out  # 5 events a job
    unzip = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True)
    assert unzip.returncode == 0 and "No errors detected" in unzip.stdout, unzip.stdout
    folder = tmp_path / "f-3"
    subprocess.run(["unzip", "-q", str(path), "-d", str(folder)], check=True)
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    history = json.loads((folder / "history.json").read_text())
    assert [j["id"] for j in history["jobs"]] == [first, second]
    assert history["chain"]["problems"] == [] and history["chain"]["anchor"] == ""
    events = [e for j in history["jobs"] for e in j["trace"]]
    assert all(e["chain_hash"] for e in events) and other not in {e["job_id"] for e in events}
    assert history["chain"]["head"] in out
    sent = sorted(p.name for p in (folder / "messages").iterdir())
    assert sent == [f"job-{first}-attempt-1.eml", f"job-{second}-attempt-1.eml"]
    assert (folder / "messages" / sent[0]).read_bytes() in [m[2] for m in smtp.messages]
    assert "is intact" in (folder / "README.txt").read_text()

    # A sealed event cannot be edited, nor unsealed to be sealed again...
    rows = r.sql("SELECT id, event FROM delivery_events WHERE case_ref = 'F-3' ORDER BY chain_seq")
    for statement in ("UPDATE delivery_events SET detail = '{}' WHERE id = ?",
                      "UPDATE delivery_events SET chain_hash = NULL, chain_seq = NULL WHERE id = ?"):
        with pytest.raises(sqlite3.IntegrityError, match="a sealed trace event cannot be changed"):
            r.sql(statement, (rows[3]["id"],))
    # ... but someone who drops the guard, edits a trace event and deletes another: the
    # export says which.
    r.sql("DROP TRIGGER delivery_events_sealed")
    r.sql("UPDATE delivery_events SET detail = '{\"code\":250}' WHERE id = ?", (rows[3]["id"],))
    r.sql("DELETE FROM delivery_events WHERE id = ?", (rows[5]["id"],))
    tampered = r.run("case", "export", "F-3", "--out", str(tmp_path / "again.zip"), check=False)
    assert tampered.returncode == 1, tampered.stdout
    assert f"event {rows[3]['id']} ({rows[3]['event']}) was altered" in tampered.stdout
    assert f"before event {rows[6]['id']} an event is missing" in tampered.stdout
    assert "THE EVIDENCE WAS ALTERED" in zipfile.ZipFile(tmp_path / "again.zip").read("README.txt").decode()
    assert r.run("case", "export", "NOPE", "--out", str(tmp_path / "n.zip"), check=False).returncode == 1


def test_a_case_file_names_a_message_removed_or_corrupted_and_is_written_all_the_same(tmp_path, smtp):
    r = Relance(tmp_path, smtp_port=smtp.port)
    r.run("migrate")
    r.run("payer", "upsert", "--ref", "ACME", "--name", "Boulangerie Martin", "--locale", "fr-FR",
          "--email", "compta@martin.example.fr")
    first = r.enqueue("ACME", case="F-5")
    second = r.enqueue("ACME", template="reminder-2", case="F-5")
    r.serve_until_idle()
    removed, corrupted = rendered_hash(r, first), rendered_hash(r, second)
    r.sql("DELETE FROM message_archive WHERE sha256 = ?", (removed,))
    r.sql("UPDATE message_archive SET content = X'789C0300', compression = 'deflate' WHERE sha256 = ?", (corrupted,))
    path = tmp_path / "f-5.zip"
    out = r.run("case", "export", "F-5", "--out", str(path), check=False)
    assert out.returncode == 1, out.stdout
    assert f"the message of job-{first}-attempt-1 is missing from the archive" in out.stdout
    assert f"the message of job-{second}-attempt-1: archived message {corrupted}" in out.stdout
    readme = zipfile.ZipFile(path).read("README.txt").decode()
    assert "THE EVIDENCE WAS ALTERED" in readme and "is missing from the archive" in readme
    said = r.run("jobs", "show", str(first), "--content", check=False)
    assert said.returncode == 1 and "pruned after archive.retention, or removed" in said.stderr
