"""Malformed input at every door never crashes Relance: it is refused with an error that
says what and where (issue "Nothing malformed gets in")."""

import json
import shutil

import pytest

from conftest import REPO, Relance


def relance_with_templates(tmp_path, change):
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "Templates", templates)
    change(templates)
    r = Relance(tmp_path / "r")
    r.config.write_text(r.config.read_text().replace(f"  directory: {REPO / 'Templates'}\n",
                                                     f"  directory: {templates}\n"))
    r.run("migrate")
    return r, templates


def partial_loop(templates):
    (templates / "partials/fr/loop-a.mustache").write_text("a {{> loop-b}}")
    (templates / "partials/fr/loop-b.mustache").write_text("b {{> loop-a}}")
    (templates / "reminder-1/fr/email-text.mustache").write_text("{{> loop-a}}")


def deep_nesting(templates):
    (templates / "reminder-2/fr/email-text.mustache").write_text("{{#a}}" * 10_000 + "{{/a}}" * 10_000)


@pytest.mark.parametrize("change, words", [(partial_loop, "partials include each other"),
                                           (deep_nesting, "sections nested more than 50 deep")])
def test_partial_loops_and_deep_nesting_are_refused_by_every_command_not_a_crash(tmp_path, change, words):
    r, templates = relance_with_templates(tmp_path, change)
    for args in (["templates", "check"], ["templates", "check", "--directory", str(templates)],
                 ["render", "--payer", "X", "--template", "reminder-1"], ["serve", "--until-idle"]):
        out = r.run(*args, check=False)
        assert out.returncode == 1, (args, out.returncode, out.stderr)
        assert words in out.stderr + out.stdout, (args, out.stderr)


def config_check(r, env=None):
    import os
    import subprocess
    from conftest import BIN
    environment = dict(os.environ, RELANCE_CONFIG=str(r.config), **(env or {}))
    return subprocess.run([BIN, "config", "check"], capture_output=True, text=True, env=environment, timeout=60)


def test_config_with_a_byte_that_is_not_utf8_even_in_a_comment_is_refused_with_its_line(tmp_path):
    r = Relance(tmp_path)
    text = r.config.read_bytes()
    r.config.write_bytes(b"# r\xe9sum\xe9 des relances\n" + text)
    out = config_check(r)
    assert out.returncode == 1 and f"{r.config}:1:4: not valid UTF-8" in out.stderr, out.stderr


def test_config_list_where_a_number_belongs_is_refused_with_its_line(tmp_path):
    r = Relance(tmp_path)
    r.config.write_text(r.config.read_text().replace("concurrency: 2", "concurrency: 2\n  batch_size: [1, 2]"))
    out = config_check(r)
    assert out.returncode == 1 and "dispatcher.batch_size: a list, where a whole number belongs" in out.stderr, out.stderr
    assert f"{r.config}:" in out.stderr


def test_unknown_relance_variables_are_refused_with_a_suggestion(tmp_path):
    r = Relance(tmp_path)
    out = config_check(r, {"RELANCE_SMTP_HOTS": "mail.example"})
    assert out.returncode == 1
    assert "unknown variable RELANCE_SMTP_HOTS (did you mean RELANCE_SMTP_HOST?)" in out.stderr, out.stderr
    assert config_check(r, {"RELANCE_TEST_ANYTHING": "1"}).returncode == 0


def test_control_characters_in_header_bound_values_are_refused(tmp_path):
    r = Relance(tmp_path)
    out = config_check(r, {"RELANCE_EMAIL_MESSAGE_ID_DOMAIN": "example.fr\r\nBcc: evil@attacker.example"})
    assert out.returncode == 1
    assert "email.message_id_domain: contains a line break" in out.stderr, out.stderr


def test_duplicate_tokens_and_latin1_in_the_tokens_file_are_refused_with_the_line(tmp_path):
    r = Relance(tmp_path)
    tokens = tmp_path / "tokens"
    tokens.write_text("ops admin tok-0123456789abcdef\nbilling enqueue tok-0123456789abcdef\n")
    r.config.write_text(r.config.read_text().replace("api:\n  enabled: false\n", f"api:\n  tokens_file: {tokens}\n"))
    out = config_check(r)
    assert out.returncode == 1 and f"{tokens}:2: the same token as line 1" in out.stderr, out.stderr
    tokens.write_bytes(b"# cl\xe9s\nops admin tok-0123456789abcdef\n")
    out = config_check(r)
    assert out.returncode == 1 and "not valid UTF-8" in out.stderr and f"{tokens}:1:" in out.stderr, out.stderr


def test_config_check_refuses_a_missing_templates_directory_and_redacts_url_credentials(tmp_path):
    r = Relance(tmp_path)
    r.config.write_text(r.config.read_text().replace(f"  directory: {REPO / 'Templates'}\n",
                                                     f"  directory: {tmp_path / 'nowhere'}\n"))
    out = config_check(r)
    assert out.returncode == 1 and "does not exist" in out.stderr and "nowhere" in out.stderr, out.stderr
    r2 = Relance(tmp_path / "b")
    out = config_check(r2, {"RELANCE_SMS_TRANSPORT": "webhook", "RELANCE_DISPATCHER_LEASE": "60",
                            "RELANCE_SMS_WEBHOOK_URL": "http://user:URLPASS@127.0.0.1:9/sms?api_key=QUERYKEY"})
    assert out.returncode == 0, out.stderr
    assert "URLPASS" not in out.stdout and "QUERYKEY" not in out.stdout, out.stdout
    assert "sms.webhook.url = http://<redacted>@127.0.0.1:9/sms?<redacted>" in out.stdout, out.stdout
    assert "dispatcher.lease (effective) = " in out.stdout
    # Headers carry API keys: their values are secrets too.
    r2.config.write_text(r2.config.read_text() + "sms:\n  transport: webhook\n  webhook:\n    url: http://127.0.0.1:9/sms\n"
                         "    headers: ['Authorization: Bearer HEADERSECRET']\n"
                         "letters:\n  http_upload:\n    headers: ['X-Api-Key: UPLOADSECRET']\n")
    out = config_check(r2, {"RELANCE_DISPATCHER_LEASE": "60"})
    assert out.returncode == 0, out.stderr
    assert "HEADERSECRET" not in out.stdout + out.stderr and "UPLOADSECRET" not in out.stdout + out.stderr, out.stdout
    assert "sms.webhook.headers = <redacted>" in out.stdout, out.stdout


# The doors: one rule for references, keys and names (NUL, control characters, NFC,
# strict UTF-8) behind the HTTP API, the CLI and enqueue --stdin.

from api_support import api, error_of, job_body, payer_body, pointers, sample  # noqa: E402,F401  (api is a fixture)


def test_api_refuses_a_nul_a_bad_escape_and_a_non_nfc_reference_instead_of_touching_another_payer(api):
    api.put_payer("VICTIM")
    before = api.get("/v1/payers/VICTIM").json()
    for path, words in [("/v1/payers/VICTIM%00attacker", "control character"),
                        ("/v1/payers/LB%C0%AE", "not valid UTF-8"),
                        ("/v1/payers/cafe%CC%81", "not in Unicode NFC")]:
        r = api.put(path, payer_body("x", email="attacker@example.net") | {"ref": None})
        assert r.status_code == 422, (path, r.status_code, r.text)
        assert words in r.text, (path, r.text)
    assert api.get("/v1/payers/VICTIM").json() == before
    # In a body: the same rules for the payer's ref, the job's references and its key.
    bad = {"payer_ref": "VICTIM\u0000x", "case_ref": "cafe\u0301", "idempotency_key": "k\u0007"}
    for field, value in bad.items():
        r = api.post("/v1/jobs", job_body("VICTIM") | {field: value})
        assert r.status_code == 422 and f"/{field}" in r.text, (field, r.text)
    r = api.post("/v1/jobs", job_body("NEW") | {"payer": payer_body("NEW\u0000x")})
    assert r.status_code == 422, r.text


def test_two_invalid_utf8_idempotency_keys_are_refused_not_merged(api):
    api.put_payer("ACME")
    for raw in (b"k\xe0\x80\xaf", b"k\xed\xa0\x80"):
        r = api.request("POST", "/v1/jobs", data=json.dumps(job_body("ACME")).encode(),
                        headers={"Content-Type": "application/json", "Idempotency-Key": raw})
        assert r.status_code == 422 and "not UTF-8" in r.text, (raw, r.status_code, r.text)


def test_cli_refuses_invalid_utf8_arguments_and_stdin_and_nul_or_non_nfc_references(relance_outbox):
    import subprocess
    from conftest import BIN
    r = relance_outbox
    env = {"RELANCE_CONFIG": str(r.config), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([BIN.encode(), b"payer", b"upsert", b"--ref", b"k\xe0\x80\xaf", b"--name", b"X",
                          b"--email", b"x@example.fr"], capture_output=True, env=env, timeout=60)
    assert out.returncode == 64 and b"argument 4 is not valid UTF-8" in out.stderr, out.stderr
    out = subprocess.run([BIN, "enqueue", "--stdin"], input=b'{"payer_ref": "P\xe9"}\n', capture_output=True,
                         env=env, timeout=60)
    assert out.returncode == 1 and b"standard input, line 1: not valid UTF-8" in out.stderr, out.stderr
    result = r.run("payer", "upsert", "--ref", "cafe\u0301", "--name", "Café", "--email", "x@example.fr", check=False)
    assert result.returncode == 1 and "not in Unicode NFC" in result.stderr, result.stderr
    r.payer("P", "Dupont SARL", "fr-FR", "dupont@example.fr")
    line = json.dumps(job_body("P") | {"case_ref": "C\u0000D"})
    result = r.run("enqueue", "--stdin", input=line + "\n", check=False)
    assert result.returncode == 1 and "line 1: /case_ref: must not contain a NUL" in result.stderr, result.stderr
    assert r.sql("SELECT count(*) AS n FROM jobs")[0]["n"] == 0


def test_render_out_writes_through_a_fifo_a_symlink_and_stdout_and_never_replaces_the_node(relance_outbox, tmp_path):
    import os
    import stat
    import subprocess
    import threading
    from conftest import BIN
    r = relance_outbox
    r.run("payer", "upsert", "--ref", "D", "--name", "Plomberie Dupont", "--address-line", "12, rue des Tanneurs",
          "--address-line", "69002 Lyon", "--channels", "letter")
    args = ["render", "--payer", "D", "--template", "formal-notice", "--channel", "letter", "--out"]
    # A FIFO (as a device would be): written in place, still a FIFO afterwards.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    r.run(*args, str(fifo))
    reader.join(timeout=30)
    assert got and got[0].startswith(b"%PDF-"), got[:1]
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    # A symbolic link: the target is written, the link stays a link.
    target = tmp_path / "target.pdf"
    target.write_bytes(b"old")
    link = tmp_path / "link.pdf"
    link.symlink_to(target)
    r.run(*args, str(link))
    assert os.path.islink(link) and target.read_bytes().startswith(b"%PDF-")
    # '-': the PDF on standard output, the summary on standard error.
    out = subprocess.run([BIN, *args, "-"], capture_output=True, env={"RELANCE_CONFIG": str(r.config)}, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith(b"%PDF-") and b"page(s)" in out.stderr, out.stderr
    # A regular file is replaced whole; a directory is refused.
    regular = tmp_path / "notice.pdf"
    r.run(*args, str(regular))
    assert regular.read_bytes().startswith(b"%PDF-")
    refused = r.run(*args, str(tmp_path), check=False)
    assert refused.returncode == 1 and "is a directory" in refused.stderr


def test_two_different_inline_payers_with_one_ref_in_a_batch_are_refused_not_last_wins(relance_outbox):
    r = relance_outbox
    first = job_body("NEWP") | {"payer": payer_body("NEWP", email="first@example.fr")}
    same = job_body("NEWP") | {"payer": payer_body("NEWP", email="first@example.fr")}
    other = job_body("NEWP") | {"payer": payer_body("NEWP", email="second@example.fr")}
    result = r.run("enqueue", "--stdin", input="\n".join(json.dumps(j) for j in (first, same, other)) + "\n",
                   check=False)
    assert result.returncode == 1 and "line 3: /payer: differs from the payer 'NEWP' given at line 1" in result.stderr, \
        result.stderr
    assert r.sql("SELECT count(*) AS n FROM payers")[0]["n"] == 0
    r.run("enqueue", "--stdin", input="\n".join(json.dumps(j) for j in (first, same)) + "\n")
    assert r.sql("SELECT email FROM payers") == [{"email": "first@example.fr"}]


def test_fifty_parallel_puts_of_a_new_payer_answer_201_exactly_once(api):
    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(max_workers=25) as pool:
        codes = list(pool.map(lambda _: api.put("/v1/payers/RACE", payer_body("RACE")).status_code, range(50)))
    assert codes.count(201) == 1 and codes.count(200) == 49, codes


# The HTTP server's own refusals: what its parser cannot read still gets the documented
# JSON error body (docs/API.md, `bad_request`), and the daemon goes on serving.

def raw_exchange(port, request: bytes, timeout=10):
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
    return answer


@pytest.mark.parametrize("label, request_bytes, words", [
    ("NUL in a header", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", "character HTTP does not allow"),
    ("1 MB header", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 1_000_000 + b"\r\n\r\n", "too large"),
    ("bad request line", b"GET\x01 / HTTP/1.1\r\nHost: x\r\n\r\n", "refused the request"),
    ("100 KB path", b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", "too large"),
    ("5,000 headers", b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % i for i in range(5000))
     + b"\r\n", "too large"),
    ("not HTTP at all", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64, "refused the request"),
], ids=lambda value: value if isinstance(value, str) and len(value) < 40 else "")
def test_the_http_servers_own_400s_carry_the_json_error_body(api, label, request_bytes, words):
    answer = raw_exchange(api.port, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0] == "HTTP/1.1 400 Bad Request", (label, answer[:300])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert headers["content-type"] == "application/json; charset=utf-8", (label, headers)
    assert int(headers["content-length"]) == len(body), (label, headers, body)
    error = json.loads(body)["error"]
    assert error["code"] == "bad_request" and words in error["message"], (label, error)
    # Still serving, and a request the router refuses keeps its own answer.
    assert api.get("/readyz", token=None).status_code == 200
    r = api.post("/v1/jobs", data=b"{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json", r.text


def test_head_tells_the_length_a_get_would_send(api):
    api.put_payer("ACME")
    for path in ["/v1/payers/ACME", "/openapi.yaml", "/readyz", "/v1/jobs"]:
        got = api.get(path)
        head = api.request("HEAD", path)
        assert got.status_code == head.status_code == 200, (path, got.status_code, head.status_code)
        assert head.content == b"", path
        assert head.headers["Content-Length"] == str(len(got.content)), (path, head.headers, len(got.content))
        assert head.headers["Content-Type"] == got.headers["Content-Type"], path
    # A HEAD on an unknown path: 404 with the length of the 404 body a GET gets.
    got, head = api.get("/v1/payers/NOBODY"), api.request("HEAD", "/v1/payers/NOBODY")
    assert head.status_code == 404 and head.headers["Content-Length"] == str(len(got.content)), head.headers


# Segments: a payer's segment is one the templates or scenarios know, at every door.

def without_ref(body):
    return {key: value for key, value in body.items() if key != "ref"}


def test_a_segment_nothing_knows_is_refused_at_every_door_and_fails_a_sql_row_with_the_rule(api):
    r = api.put("/v1/payers/ACME", without_ref(payer_body("ACME", segment="Consumer")))
    error = error_of(r, 422, "validation_failed")
    [field] = error["fields"]
    assert field["pointer"] == "/segment", field
    assert "unknown segment 'Consumer'" in field["message"] and "standard" in field["message"], field
    assert "did you mean 'consumer'" not in field["message"] and "`kind`" in field["message"], field
    r = api.put("/v1/payers/ACME", without_ref(payer_body("ACME", segment="strategc")))
    assert "did you mean 'strategic'" in r.text, r.text
    # Every segment the shipped templates and scenarios name is accepted.
    for segment in ("standard", "strategic", "small-business"):
        r = api.put("/v1/payers/ACME", without_ref(payer_body("ACME", segment=segment)))
        assert r.status_code in (200, 201), (segment, r.text)
    # Inline with a job.
    r = api.post("/v1/jobs", job_body("NEW") | {"payer": payer_body("NEW", segment="particulier")})
    assert "/payer/segment" in pointers(r), r.text
    # The CLI.
    cli = api.relance.run("payer", "upsert", "--ref", "CLI", "--name", "X", "--segment", "vip", check=False)
    assert cli.returncode == 1 and "unknown segment 'vip'" in cli.stderr, cli.stderr
    # A payer row written by SQL: its jobs are refused at enqueue and fail at dispatch.
    api.relance.sql("UPDATE payers SET segment = 'vip' WHERE ref = 'ACME'")
    r = api.post("/v1/jobs", job_body("ACME"))
    assert "/payer/segment" in pointers(r), r.text
    api.relance.sql("INSERT INTO jobs(payer_ref, channel, template, data) VALUES ('ACME', 'email', 'reminder-1', ?)",
                    (json.dumps(sample("reminder-1")),))
    job = wait_for_state(api, {"failed"})
    assert "unknown segment 'vip'" in job["last_error"], job


def wait_for_state(api, states, timeout=30):
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = api.get("/v1/jobs").json()["jobs"]
        if jobs and jobs[0]["state"] in states:
            return jobs[0]
        time.sleep(0.1)
    raise AssertionError(api.get("/v1/jobs").text)


def test_a_one_megabyte_name_written_by_sql_never_makes_a_header_line_over_998_bytes(relance_smtp, smtp):
    # Defect 7: a name of 1 MB written by SQL gave a To: line of 1,000,004 bytes. Now the
    # row is refused at claim, naming the rule; the longest name allowed, one unbroken
    # word of non-ASCII letters, still makes header lines of at most 998 bytes.
    r = relance_smtp
    sample = (REPO / "Templates/samples/reminder-1.json").read_text()
    r.payer("HUGE", "Placeholder", "fr-FR", "huge@example.fr")
    r.payer("LONG", "Placeholder", "fr-FR", "long@example.fr")
    r.sql("UPDATE payers SET name = ? WHERE ref = 'HUGE'", ("Établissements Dupont " * 50_000,))
    r.sql("UPDATE payers SET name = ? WHERE ref = 'LONG'", ("É" * 300,))
    for ref in ("HUGE", "LONG"):
        r.sql("INSERT INTO jobs(payer_ref, case_ref, channel, template, data) VALUES (?, ?, 'email', 'reminder-1', ?)",
              (ref, ref, sample))
    assert r.serve_until_idle().returncode == 0
    jobs = {job["case_ref"]: job for job in r.jobs()}
    assert jobs["HUGE"]["state"] == "failed", jobs["HUGE"]
    assert "column name is longer than 300 characters" in jobs["HUGE"]["last_error"], jobs["HUGE"]
    assert jobs["LONG"]["state"] == "sent", jobs["LONG"]
    [(_, recipients, raw)] = smtp.messages
    assert recipients == ["long@example.fr"]
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    # The legacy decoder joins adjacent encoded words as RFC 2047 section 6.2 says (the
    # default policy's parser keeps a space between them).
    import email.header
    to = email.message_from_bytes(raw)["To"]
    decoded = str(email.header.make_header(email.header.decode_header(to)))
    assert decoded == "É" * 300 + " <long@example.fr>", decoded[-80:]


# Found by a review from the docs alone (as a user and as an attacker), each with its test.

def test_an_invoice_number_with_a_nul_or_a_tab_is_refused_not_cut(api):
    api.put_payer("FN1")
    body = {"number": "I\u00005", "payer_ref": "FN1", "amount": {"amount": "100.00", "currency": "EUR"},
            "issue_date": "2026-11-01", "due_date": "2099-12-30"}
    r = api.post("/v1/invoices", body)
    assert pointers(r) == ["/number"] and "control character" in r.text, r.text
    r = api.post("/v1/invoices", body | {"number": "I5", "payer_ref": "FN1\u0000x"})
    assert "/payer_ref" in pointers(r), r.text
    assert api.relance.sql("SELECT count(*) AS n FROM invoices")[0]["n"] == 0
    assert api.relance.sql("SELECT count(*) AS n FROM jobs")[0]["n"] == 0
    cli = api.relance.run("invoice", "open", "--payer", "FN1", "--number", "CLI\tTAB", "--amount", "10.00",
                          "--issued", "2026-11-01", "--due", "2099-12-30", check=False)
    assert cli.returncode == 1 and "control character" in cli.stderr, (cli.stdout, cli.stderr)


def test_job_data_that_would_print_as_a_dump_or_a_wrong_demand_is_refused_at_every_door(api):
    api.put_payer("ACME")
    data = sample("formal-notice")
    bad = {
        "/data/total_due": data | {"total_due": data["total_due"] | {"x": 1}},
        "/data/payment_deadline": data | {"payment_deadline": {"date": "2099-12-15"}},
        "/data/invoices/0/number": data | {"invoices": [data["invoices"][0] | {"number": {"x": 1}}]}
                                   | {"total_due": data["invoices"][0]["balance"]},
    }
    for pointer, value in bad.items():
        r = api.post("/v1/jobs", job_body("ACME", template="formal-notice") | {"data": value})
        assert pointer in pointers(r), (pointer, r.text)
    wrong_total = data | {"total_due": {"amount": "1.00", "currency": "EUR"}}
    r = api.post("/v1/jobs", job_body("ACME", template="formal-notice") | {"data": wrong_total})
    assert "/data/total_due" in pointers(r) and "add up to 6386.00 EUR" in r.text, r.text
    # Written by SQL: fails at dispatch with the same words, nothing sent.
    api.relance.sql("INSERT INTO jobs(payer_ref, channel, template, data) VALUES ('ACME', 'email', 'formal-notice', ?)",
                    (json.dumps(data | {"payment_deadline": {"x": "2099-01-01"}}),))
    job = wait_for_state(api, {"failed", "sent"})
    assert job["state"] == "failed" and "/data/payment_deadline" in job["last_error"], job
    assert not list((api.state / "outbox").glob("*.eml"))


def test_a_nul_in_a_payer_column_written_by_sql_fails_the_job_naming_the_column(relance_smtp, smtp):
    r = relance_smtp
    sample_data = (REPO / "Templates/samples/reminder-1.json").read_text()
    for ref, column, value in (("E", "email", "victim@b.fr\u0000attacker@evil.example"),
                               ("N", "name", "Nul\u0000Hidden"), ("S", "segment", "standard\u0000x")):
        r.payer(ref, "Placeholder", "fr-FR", f"{ref.lower()}@example.fr")
        r.sql(f"UPDATE payers SET {column} = ? WHERE ref = ?", (value, ref))
        r.sql("INSERT INTO jobs(payer_ref, case_ref, channel, template, data) VALUES (?, ?, 'email', 'reminder-1', ?)",
              (ref, column, sample_data))
    assert r.serve_until_idle().returncode == 0
    jobs = {job["case_ref"]: job for job in r.jobs()}
    for column in ("email", "name", "segment"):
        assert jobs[column]["state"] == "failed", jobs[column]
        assert f"column {column} contains a NUL byte" in jobs[column]["last_error"], jobs[column]
    assert smtp.count() == 0


def test_duplicate_json_members_nul_filters_and_instants_past_2999_in_utc_are_refused(api):
    api.put_payer("FN1")
    r = api.post("/v1/jobs", data=b'{"payer_ref": "FN1", "payer_ref": "NOPE", "channel": "email", "template": "thanks"}',
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "appears twice" in r.json()["error"]["message"], r.text
    assert pointers(api.get("/v1/jobs", params={"case_ref": "\u0000"})) == ["/case_ref"]
    r = api.post("/v1/jobs", job_body("FN1") | {"run_at": "2999-12-31T23:59:59-12:00"})
    assert "/run_at" in pointers(r), r.text
    r = api.put("/v1/payers/FN2", {"name": "X", "segment": None, "kind": None, "locale": None})
    assert r.status_code == 201 and r.json()["segment"] == "standard" and r.json()["kind"] == "business", r.text


def test_scenarios_reload_with_the_templates_and_a_broken_one_refuses_the_reload(tmp_path):
    import signal
    import time
    from api_support import ApiServer
    templates = tmp_path / "templates"
    shutil.copytree(REPO / "Templates", templates)
    server = ApiServer(tmp_path / "api")
    server.relance.config.write_text(server.relance.config.read_text().replace(
        f"  directory: {REPO / 'Templates'}\n", f"  directory: {templates}\n"))
    server.start()
    try:
        def reload_and_wait(words):
            before = server.log().count(words)
            server.process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 20
            while server.log().count(words) == before:
                assert time.monotonic() < deadline, server.log()[-2000:]
                time.sleep(0.1)

        # A scenario naming a message no template has: the reload is refused, "gold" stays unknown.
        (templates / "scenarios/broken.yaml").write_text(
            "name: broken\nsegments: [gold]\nsteps:\n  - id: x\n    offset: 3d\n    message: reminder-9\n"
            "    channels: [email]\n")
        reload_and_wait("reload refused")
        assert "unknown message 'reminder-9'" in server.log(), server.log()[-2000:]
        r = server.put("/v1/payers/G1", {"name": "Gold SA", "segment": "gold", "email": "g@example.fr"})
        assert "/segment" in pointers(r), r.text
        # A good one: its segment is known, and invoices of its payers follow it.
        (templates / "scenarios/broken.yaml").write_text(
            "name: gold\nsegments: [gold]\nsteps:\n  - id: only\n    offset: 3d\n    message: reminder-1\n"
            "    channels: [email]\n")
        reload_and_wait("msg=reloaded")
        r = server.put("/v1/payers/G1", {"name": "Gold SA", "segment": "gold", "email": "g@example.fr"})
        assert r.status_code == 201, r.text
        r = server.post("/v1/invoices", {"number": "G-1", "payer_ref": "G1", "issue_date": "2099-01-01",
                                         "due_date": "2099-02-01", "amount": {"amount": "10.00", "currency": "EUR"}})
        assert r.status_code == 201 and r.json()["invoice"]["scenario"] == "gold", r.text
        assert [j["step"] for j in r.json()["jobs"]] == ["only"], r.text
    finally:
        server.stop()
