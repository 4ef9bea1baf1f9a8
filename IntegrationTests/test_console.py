"""The web console (Sources/RelanceConsole) as its users see it: Debian's headless
chromium, driven by Selenium (IntegrationTests/browser.py), against the real daemon
(`relance serve` with `console:` and `api:` sections) sending to a real SMTP server
(aiosmtpd on 127.0.0.1) that can be told to fail at the worst moment.

One daemon and one browser serve most of the file (the `site` and `driver` fixtures);
the tests that need a daemon of their own (the login throttle, which counts failures
per client address too, and a SIGTERM) get a fresh one. Users are made with
`relance console user add … --password-stdin`, invoices with `relance invoice open`.
Pictures of the main pages go to docs/console/ (browser.screenshot)."""

import datetime
import re
import signal
import subprocess
import time
import urllib.parse

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from api_support import ApiServer, describe, job_body
from browser import axe_violations, console_errors, open_browser, screenshot, wait_for_text
from conftest import BIN, free_port, wait_for
from test_once_means_once import FaultyRecorder, serve

USERS = {  # name: (role, password)
    "alice": ("admin", "alice-Correct-Horse-42"),
    "victor": ("viewer", "victor-Battery-Staple-17"),
    "ada": ("advisor", "ada-Lovelace-Engine-1843"),
}

TODAY = datetime.datetime.now(datetime.timezone.utc).date()  # the console ages invoices on UTC days

# Business payers whose names need escaping, with an e-mail address and a postal address.
PAYERS = [
    dict(ref="P-DUPONT-7731", name="Dupont & Fils <SARL>", email="compta@dupont-fils.example",
         phone="+33612345678", postal_address=["12 rue des Tanneurs", "69002 Lyon"], channels=["email", "letter"]),
    dict(ref="P-HELENE-2204", name="Hélène Côté Conseil", email="helene.cote@cote-conseil.example",
         phone="+33478901234", postal_address=["4 place Bellecour", "69002 Lyon"]),
    dict(ref="P-ECLUSE-3318", name="Brasserie L’Écluse & Cie", email="factures@ecluse-brasserie.example",
         phone="+33491234567", postal_address=["9 quai du Port", "13002 Marseille"]),
    dict(ref="P-FANTOME-0409", name="Société Fantôme <SAS>", email="absent@fantome.example",
         phone="+33556789012", postal_address=["1 cours de l’Intendance", "33000 Bordeaux"]),
]

# (payer, number, amount, due date in days from today): one invoice in each ageing band.
INVOICES = [
    ("P-DUPONT-7731", "FA-2026-0101", "1250.00", -12),
    ("P-DUPONT-7731", "FA-2026-0102", "480.50", -45),
    ("P-HELENE-2204", "FA-2026-0103", "2976.00", -75),
    ("P-HELENE-2204", "FA-2026-0104", "320.00", -130),
    ("P-ECLUSE-3318", "FA-2026-0105", "1890.00", 20),
]
AGEING = [  # (band, amount, invoices), as the overview shows them in English
    ("Not yet due", "€1,890.00", "1"), ("1–30 days late", "€1,250.00", "1"), ("31–60 days late", "€480.50", "1"),
    ("61–90 days late", "€2,976.00", "1"), ("Over 90 days late", "€320.00", "1"),
]

# What an advisor must never be shown.
CASES = ["DOS-DF-01", "DOS-DF-02", "DOS-HC-01", "DOS-EC-01", "DOS-EC-02", "DOS-SF-01",
         "DOS-HC-02", "DOS-HC-03", "DOS-HC-04", "DOS-HC-05"]
PERSONAL = sorted(
    {p["name"] for p in PAYERS} | {p["name"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                                   for p in PAYERS}
    | {p["email"] for p in PAYERS} | {p["phone"][3:] for p in PAYERS} | {p["ref"] for p in PAYERS}
    | {p["postal_address"][0] for p in PAYERS} | {number for _, number, _, _ in INVOICES} | set(CASES)
    | {"Dupont", "Hélène", "Écluse", "Fantôme"}
)


def add_user(users_file, name):
    role, password = USERS[name]
    result = subprocess.run(
        [BIN, "console", "user", "add", name, "--role", role, "--file", str(users_file), "--password-stdin"],
        input=password + "\n", capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert f"{name}: {role} in {users_file}" in result.stdout, result.stdout


class ConsoleSite:
    """A daemon serving the console (and the HTTP API, to enqueue and watch jobs) on free
    ports of 127.0.0.1, its users made by the CLI."""

    def __init__(self, root, users, smtp_port=None):
        root.mkdir(parents=True, exist_ok=True)
        self.users_file = root / "console-users"
        for name in users:  # before anything reads the configuration, which names the file
            add_user(self.users_file, name)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        console = f"\nconsole:\n  listen: 127.0.0.1:{self.port}\n  users_file: {self.users_file}\n"
        self.server = ApiServer(root / "relance", smtp_port=smtp_port, extra=console)
        self.relance = self.server.relance
        self.jobs = {}

    def start(self, timeout=30):
        self.server.start(timeout=timeout)

        # The style sheet, not the sign-in page: the sign-in page starts counting the
        # overview's figures, which would then be counted before the test's data is in.
        def login_page():
            try:
                return requests.get(self.base + "/static/console.css", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        if not wait_for(login_page, timeout, interval=0.1):
            self.server.stop()
            raise AssertionError(f"the console did not answer on {self.base} within {timeout}s:\n{self.server.log()}")
        return self

    def stop(self):
        self.server.stop()

    def state(self, job_id):
        return self.server.job(job_id)["state"]

    def audit_lines(self):
        path = self.relance.state / "console-audit.log"
        return path.read_text().splitlines() if path.exists() else []


@pytest.fixture(scope="module")
def smtp_peer():
    recorder = FaultyRecorder()  # mode None: accepts; "close": drops the line after the final dot
    controller = serve(recorder)
    try:
        yield recorder
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory, smtp_peer):
    s = ConsoleSite(tmp_path_factory.mktemp("console"), USERS, smtp_port=smtp_peer.port)
    s.start()
    try:
        seed(s, smtp_peer)
        yield s
    finally:
        s.stop()


def seed(s, recorder):
    for payer in PAYERS:
        s.server.put_payer(payer["ref"], **{k: v for k, v in payer.items() if k != "ref"}, kind="business")
    for payer, number, amount, due in INVOICES:
        day = TODAY + datetime.timedelta(days=due)
        out = s.relance.run("invoice", "open", "--payer", payer, "--number", number, "--amount", amount,
                            "--issued", (day - datetime.timedelta(days=30)).isoformat(), "--due", day.isoformat())
        assert f"invoice {number} registered" in out.stdout, out.stdout
    # Sent, a letter, and one the server refuses for good.
    recorder.refused_recipients["absent@fantome.example"] = "550 5.1.1 <absent@fantome.example>: no such user"
    s.jobs["email"] = s.server.enqueue(job_body("P-DUPONT-7731", "reminder-1", "DOS-DF-01"))["id"]
    s.jobs["letter"] = s.server.enqueue(
        job_body("P-DUPONT-7731", "formal-notice", "DOS-DF-02", channel="letter"))["id"]
    s.jobs["helene"] = s.server.enqueue(job_body("P-HELENE-2204", "reminder-1", "DOS-HC-01"))["id"]
    s.jobs["ecluse"] = s.server.enqueue(job_body("P-ECLUSE-3318", "pre-due", "DOS-EC-01"))["id"]
    s.jobs["failed"] = s.server.enqueue(job_body("P-FANTOME-0409", "reminder-1", "DOS-SF-01"))["id"]
    for key in ("email", "letter", "helene", "ecluse"):
        s.server.wait_job(s.jobs[key], {"sent"})
    s.server.wait_job(s.jobs["failed"], {"failed", "dead"})
    # `uncertain`: the peer stores the message and drops the line before answering the dot.
    recorder.mode = "close"
    try:
        for key, case in (("requeue", "DOS-HC-02"), ("mark-sent", "DOS-HC-03"), ("csrf", "DOS-HC-04"),
                          ("viewer", "DOS-HC-05")):
            s.jobs[key] = s.server.enqueue(job_body("P-HELENE-2204", "reminder-2", case))["id"]
        for key in ("requeue", "mark-sent", "csrf", "viewer"):
            s.server.wait_job(s.jobs[key], {"uncertain"})
    finally:
        recorder.mode = None


@pytest.fixture(scope="module")
def driver(tmp_path_factory, site):  # after `site`: closed first, so no live-log stream outlives the tests
    with open_browser(tmp_path_factory.mktemp("chromium")) as d:
        yield d


@pytest.fixture
def fresh_site(tmp_path):
    """A daemon of its own (no SMTP peer: the outbox), for what must not touch `site`."""
    s = ConsoleSite(tmp_path / "fresh", ("alice", "victor")).start()
    try:
        yield s
    finally:
        s.stop()


# Helpers


def path_of(driver):
    return urllib.parse.urlsplit(driver.current_url).path


def wait_for_path(driver, path, timeout=10):
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: path_of(d) == path)
    except Exception:
        raise AssertionError(f"expected to reach {path}, still on {driver.current_url}") from None


def fill(driver, element_id, text):
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def submit_login(driver, name, password):
    fill(driver, "name", name)
    fill(driver, "password", password)
    driver.find_element(By.ID, "sign-in").click()


def sign_in(driver, site, name, page="/"):
    """Signs `name` in through the login form, as a person would, from a clean slate."""
    console_errors(driver)  # what earlier pages logged was theirs to check; from here on, it is ours
    driver.get(site.base + "/login")
    driver.delete_all_cookies()
    driver.get(site.base + page)
    wait_for_path(driver, "/login")
    submit_login(driver, name, USERS[name][1])
    target = urllib.parse.urlsplit(page).path
    # Either the page asked for, or a refusal (an error page, or the form again with its error).
    WebDriverWait(driver, 10, poll_frequency=0.05).until(
        lambda d: path_of(d) == target or d.find_elements(By.CSS_SELECTOR, "main p.error"))
    if path_of(driver) != target:
        shown = driver.find_element(By.TAG_NAME, "main").text
        raise AssertionError(f"{name} could not sign in: on {driver.current_url}, the page says: {shown!r}")


def browser_session(driver):
    """A requests session carrying the browser's cookies (its session, as it is)."""
    session = requests.Session()
    for cookie in driver.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    return session


def session_cookie(driver):
    cookie = driver.get_cookie("relance_session")
    assert cookie is not None, driver.get_cookies()
    return cookie


def errors_besides_own_status(driver, url, status):
    """console_errors(), less the one chromium logs for the document's own status when a
    test opens an error page on purpose."""
    own = f"{url} - Failed to load resource: the server responded with a status of {status} "
    return [e for e in console_errors(driver) if not e.startswith(own)]


def csrf_of(driver):
    """The CSRF token of the signed-in page (the sign-out form carries it)."""
    return driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] input[name='csrf']").get_attribute("value")


def login_token(session, site):
    r = session.get(site.base + "/login", timeout=10)
    assert r.status_code == 200, describe(r)
    return re.search(r'name="login_token" value="([^"]+)"', r.text).group(1)


def signed_in(site, name):
    """A requests session signed in through the login form (its token, its cookie), and
    the Set-Cookie of the answer."""
    session = requests.Session()
    data = {"name": name, "password": USERS[name][1], "login_token": login_token(session, site), "next": "/"}
    r = session.post(site.base + "/login", data=data, timeout=10, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/", describe(r)
    return session, r.headers["Set-Cookie"]


def csrf_in(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def field(driver, label):
    """The value shown for `label` in a page's <dl class="profile">."""
    for dt in driver.find_elements(By.CSS_SELECTOR, "dl.profile dt"):
        if dt.text == label:
            return dt.find_element(By.XPATH, "following-sibling::dd[1]").text
    raise AssertionError(f"no {label!r} on {driver.current_url}")


def trace_rows(driver):
    return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, "table.trace tbody tr")]


def table_rows(driver, css):
    return [[cell.text for cell in tr.find_elements(By.CSS_SELECTOR, "th, td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, f"{css} tbody tr")]


# 1. An admin finds a payer and reads a job


def test_admin_signs_in_finds_a_payer_and_reads_a_job_its_preview_and_its_letter(site, driver, tmp_path):
    sign_in(driver, site, "alice")
    wait_for_text(driver, "h1", "Overview")
    assert driver.find_element(By.CSS_SELECTOR, ".who").text == "alice (admin)"
    ageing = driver.find_element(By.CSS_SELECTOR, "section[aria-labelledby='h-aging']")
    assert table_rows(driver, "section[aria-labelledby='h-aging'] table") == [list(r) for r in AGEING]
    bars = ageing.find_elements(By.CSS_SELECTOR, "figure.chart svg rect")
    assert len(bars) == 5 and all(int(b.get_attribute("width")) > 0 for b in bars), [
        b.get_attribute("width") for b in bars]

    # By name (any case), then by invoice number.
    driver.find_element(By.LINK_TEXT, "Payers").click()
    wait_for_text(driver, "h1", "Payers")
    fill(driver, "q", "dupont")
    driver.find_element(By.CSS_SELECTOR, "form[role='search'] button").click()
    wait_for_text(driver, "#payer-results", "Dupont & Fils <SARL>")
    assert table_rows(driver, "#payer-results") == [
        ["P-DUPONT-7731", "Dupont & Fils <SARL>", "compta@dupont-fils.example", "+33612345678"]]
    # With a space: the browser sends `q=dupont+%26+fils`, a `+` for each space.
    fill(driver, "q", "dupont & fils")
    driver.find_element(By.CSS_SELECTOR, "form[role='search'] button").click()
    assert wait_for(lambda: "q=dupont+%26+fils" in driver.current_url, 10), driver.current_url
    wait_for_text(driver, "#payer-results", "Dupont & Fils <SARL>")
    fill(driver, "q", "FA-2026-0104")  # an overdue invoice: no job names it, only the invoice
    driver.find_element(By.CSS_SELECTOR, "form[role='search'] button").click()
    wait_for_text(driver, "#payer-results", "Hélène Côté Conseil")
    assert [row[0] for row in table_rows(driver, "#payer-results")] == ["P-HELENE-2204"]
    fill(driver, "q", "FA-2026-0102")
    driver.find_element(By.CSS_SELECTOR, "form[role='search'] button").click()
    wait_for_text(driver, "#payer-results", "P-DUPONT-7731")
    driver.find_element(By.LINK_TEXT, "P-DUPONT-7731").click()

    # The payer's page: profile, invoices, messages.
    wait_for_text(driver, "h1", "Dupont & Fils <SARL>")
    assert field(driver, "E-mail") == "compta@dupont-fils.example"
    assert field(driver, "Postal address") == "12 rue des Tanneurs / 69002 Lyon"
    invoices = table_rows(driver, "section[aria-labelledby='h-invoices'] table")
    assert [row[0] for row in invoices] == ["FA-2026-0101", "FA-2026-0102"], invoices
    assert invoices[0][1:3] == ["€1,250.00", "€1,250.00"] and invoices[0][4] == "open", invoices
    email_job, letter_job = site.jobs["email"], site.jobs["letter"]
    for job in (email_job, letter_job):
        driver.find_element(By.CSS_SELECTOR, f"article.job a[href='/jobs/{job}']")

    # A job: its fields, the e-mail rendered now in a sandboxed frame of its own.
    driver.find_element(By.CSS_SELECTOR, f"article.job a[href='/jobs/{email_job}']").click()
    wait_for_text(driver, "h1", f"Job {email_job}")
    assert field(driver, "State") == "sent" and field(driver, "Case") == "DOS-DF-01"
    assert "accepted" in [row[1] for row in trace_rows(driver)]
    frame = driver.find_element(By.CSS_SELECTOR, "iframe.message")
    assert frame.get_attribute("sandbox") == ""  # present and empty: every restriction
    assert frame.get_attribute("src") == f"{site.base}/jobs/{email_job}/preview.html"
    driver.switch_to.frame(frame)
    try:
        WebDriverWait(driver, 10).until(lambda d: d.find_element(By.TAG_NAME, "body").text.strip())
        assert "Dupont & Fils <SARL>" in driver.find_element(By.TAG_NAME, "body").text
    finally:
        driver.switch_to.default_content()
    http = browser_session(driver)
    r = http.get(f"{site.base}/jobs/{email_job}/preview.html", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), describe(r)
    directives = [d.strip() for d in r.headers["Content-Security-Policy"].split(";")]
    assert "sandbox" in directives and "default-src 'none'" in directives, directives
    assert not any("allow-scripts" in d or "script-src" in d for d in directives), directives
    assert "Dupont &amp; Fils &lt;SARL" in r.text and "<SARL>" not in r.text, r.text[:2000]  # escaped

    # The letter: a PDF behind the session.
    driver.back()
    wait_for_text(driver, "h1", "Dupont & Fils <SARL>")
    driver.find_element(By.CSS_SELECTOR, f"article.job a[href='/jobs/{letter_job}']").click()
    wait_for_text(driver, "h1", f"Job {letter_job}")
    assert field(driver, "Channel") == "letter"
    link = driver.find_element(By.ID, "letter-pdf")
    assert link.get_attribute("href") == f"{site.base}/jobs/{letter_job}/letter.pdf"
    pdf = http.get(link.get_attribute("href"), timeout=30)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf", describe(pdf)
    assert pdf.content.startswith(b"%PDF-")
    (tmp_path / "letter.pdf").write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(tmp_path / "letter.pdf"), "-"], capture_output=True, text=True,
                          check=True, timeout=30).stdout
    assert "Dupont & Fils <SARL>" in text, text
    # Not to anyone else.
    r = requests.get(link.get_attribute("href"), timeout=10, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].startswith("/login?next="), describe(r)
    assert console_errors(driver) == []


# 2. The live log


def test_live_log_shows_a_job_sent_after_the_page_opened_without_a_reload(site, driver):
    sign_in(driver, site, "alice", page="/log")
    wait_for_text(driver, "h1", "Live delivery log")
    wait_for_text(driver, "#live-status", "Connected", timeout=5)  # the EventSource is open
    driver.execute_script("window.__sameDocument = true;")
    started = time.monotonic()
    job_id = site.server.enqueue(job_body("P-ECLUSE-3318", "reminder-1", "DOS-EC-02"))["id"]
    row = wait_for_text(driver, f"#live-log tbody tr[data-job='{job_id}']", "accepted", timeout=2)
    took = time.monotonic() - started
    cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
    assert cells[1:5] == [str(job_id), "accepted", "email", "DOS-EC-02"], cells
    assert row.find_element(By.TAG_NAME, "a").get_attribute("href") == f"{site.base}/jobs/{job_id}"
    assert took < 2, took
    assert driver.execute_script("return window.__sameDocument === true;"), "the page was reloaded"
    assert site.state(job_id) == "sent"
    assert console_errors(driver) == []


# 3. Settling `uncertain` jobs


def settle(driver, site, job_id, button, note):
    driver.get(f"{site.base}/jobs/{job_id}")
    wait_for_text(driver, "h1", f"Job {job_id}")
    assert field(driver, "State") == "uncertain"
    driver.find_element(By.LINK_TEXT, button).click()
    wait_for_text(driver, "h1", "Please confirm")
    assert path_of(driver) == f"/jobs/{job_id}/resolve"
    assert f"{button}: Job {job_id} (reminder-2, email, uncertain)" in driver.find_element(By.TAG_NAME, "main").text
    fill(driver, "note", note)
    driver.find_element(By.ID, "confirm").click()
    wait_for_path(driver, f"/jobs/{job_id}")
    wait_for_text(driver, "h1", f"Job {job_id}")


def test_admin_settles_uncertain_jobs_and_the_audit_trail_and_trace_name_them(site, driver, smtp_peer):
    sign_in(driver, site, "alice")
    requeue, mark_sent = site.jobs["requeue"], site.jobs["mark-sent"]
    assert smtp_peer.received(requeue) == 1

    settle(driver, site, requeue, "Send again", "Relais vérifié & message absent")
    site.server.wait_job(requeue, {"sent"}, timeout=15)  # the working peer takes it now
    assert smtp_peer.received(requeue) == 2
    driver.refresh()
    wait_for_text(driver, "h1", f"Job {requeue}")
    assert field(driver, "State") == "sent"
    rows = trace_rows(driver)
    rescued = [row for row in rows if row[1] == "rescued"]
    assert len(rescued) == 1 and "alice (console): Relais vérifié & message absent" in rescued[0][3], rows
    assert [row[1] for row in rows].index("rescued") < len(rows) - 1 and rows[-1][1] == "accepted", rows
    # Nothing more to settle on a sent job.
    assert driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby='h-actions']") == []

    settle(driver, site, mark_sent, "Record as sent", "Found in the relay's log <queued as 4F2A>")
    assert field(driver, "State") == "sent" and site.state(mark_sent) == "sent"
    accepted = [row for row in trace_rows(driver) if row[1] == "accepted"]
    assert any("alice (console): Found in the relay's log <queued as 4F2A>" in row[3] for row in accepted), accepted
    assert smtp_peer.received(mark_sent) == 1

    driver.find_element(By.LINK_TEXT, "Audit trail").click()
    wait_for_text(driver, "h1", "Audit trail")
    entries = [row[1:] for row in table_rows(driver, "#audit")]
    assert ["alice", "resolve requeue", f"job {requeue}", "ok"] in entries, entries
    assert ["alice", "resolve mark-sent", f"job {mark_sent}", "ok"] in entries, entries
    assert ["alice", "login", "admin", "ok"] in entries, entries
    assert console_errors(driver) == []


# 4. Signing out


def test_sign_out_ends_the_session_for_good(site, driver):
    sign_in(driver, site, "alice")
    old = session_cookie(driver)["value"]
    driver.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    wait_for_path(driver, "/login")
    wait_for_text(driver, "h1", "Sign in")
    assert driver.get_cookie("relance_session") is None
    driver.get(site.base + "/")
    wait_for_path(driver, "/login")
    assert urllib.parse.urlsplit(driver.current_url).query == "next=%2F"
    # The old cookie, replayed, opens nothing.
    for page in ("/", "/payers", f"/jobs/{site.jobs['email']}", "/log/events"):
        r = requests.get(site.base + page, cookies={"relance_session": old}, timeout=10, allow_redirects=False)
        assert r.status_code == 303 and r.headers["Location"].startswith("/login?next="), describe(r)
    assert any('"action":"logout"' in line and '"user":"alice"' in line for line in site.audit_lines())


# 5. The advisor: totals, never a person


def without_language_switch(source):
    # The language switch carries the page's own address back (?back=…): what the visitor
    # asked for, not what the store holds; it is left out of the search.
    return re.sub(r'href="/lang\?[^"]*"', 'href="/lang"', source)


def test_advisor_sees_the_totals_and_nothing_personal(site, driver):
    sign_in(driver, site, "ada")
    wait_for_text(driver, "h1", "Overview")
    assert driver.find_element(By.CSS_SELECTOR, ".who").text == "ada (advisor)"
    assert table_rows(driver, "section[aria-labelledby='h-aging'] table") == [list(r) for r in AGEING]
    counters = driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby='h-person'] li")
    assert len(counters) == 6 and all(re.match(r"\d+ ", c.text) for c in counters), [c.text for c in counters]
    assert driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby='h-person'] a") == []
    assert [a.get_attribute("pathname") for a in driver.find_elements(By.CSS_SELECTOR, "nav a")] == ["/"]
    for table in driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby='h-messages'] table"):
        assert table.find_element(By.TAG_NAME, "caption").text in ("Today (UTC)", "Last 30 days")
    served = {"/": driver.page_source}
    errors = console_errors(driver)
    http = browser_session(driver)
    r = http.get(site.base + "/", timeout=10)
    assert r.status_code == 200, describe(r)
    served["/ (raw)"] = r.text

    email, letter = site.jobs["email"], site.jobs["letter"]
    refused = ["/payers", "/payers?q=dupont", "/payers?q=FA-2026-0101", "/payers/P-DUPONT-7731",
               "/payers/P-DUPONT-7731/history", "/jobs", "/jobs?state=uncertain", f"/jobs/{email}",
               f"/jobs/{email}/preview.html", f"/jobs/{letter}/letter.pdf", "/log", "/log/events", "/audit",
               "/templates", "/templates/preview?payer=P-DUPONT-7731&message=reminder-1&channel=email",
               f"/jobs/{site.jobs['csrf']}/resolve?decision=requeue", "/cases/DOS-DF-01/cancel",
               "/invoices/FA-2026-0101/hold"]
    for page in refused:
        r = http.get(site.base + page, timeout=10, allow_redirects=False)
        assert r.status_code == 403, describe(r)
        assert r.headers["Content-Type"].startswith("text/html"), describe(r)
        served[page + " (raw)"] = r.text
        driver.get(site.base + page)
        wait_for_text(driver, "main", "This page is not available to your role.")
        served[page] = driver.page_source
        errors += errors_besides_own_status(driver, site.base + page, 403)
    leaks = [(page, word) for page, source in served.items() for word in PERSONAL
             if word in without_language_switch(source)]
    assert leaks == [], leaks
    assert errors == []


# 6. CSRF


def test_forms_without_their_token_or_from_another_site_are_refused_and_change_nothing(site):
    job = site.jobs["csrf"]
    http, _ = signed_in(site, "alice")
    page = http.get(f"{site.base}/jobs/{job}", timeout=10)
    assert page.status_code == 200 and "Record as sent" in page.text, describe(page)
    token = csrf_in(page.text)
    url = f"{site.base}/jobs/{job}/resolve"
    form = {"decision": "mark-sent", "note": "forged"}
    attempts = [
        ("no token", form, {}),
        ("an empty token", dict(form, csrf=""), {}),
        ("a wrong token", dict(form, csrf=token[:-4] + "AAAA"), {}),
        ("another site's Origin", dict(form, csrf=token), {"Origin": "http://evil.example"}),
        ("another port's Origin", dict(form, csrf=token), {"Origin": f"http://127.0.0.1:{site.port + 1}"}),
    ]
    for what, data, headers in attempts:
        r = http.post(url, data=data, headers=headers, timeout=10, allow_redirects=False)
        assert r.status_code == 403, (what, describe(r))
        assert "This form expired or did not come from this console" in r.text, (what, describe(r))
        assert site.state(job) == "uncertain", what
    assert not any(f'"target":"job {job}"' in line and '"outcome":"ok' in line for line in site.audit_lines())
    # The same form with its token, from the console itself, does what it says.
    r = http.post(url, data=dict(form, csrf=token, note="checked"), headers={"Origin": site.base}, timeout=10,
                  allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == f"/jobs/{job}", describe(r)
    assert site.state(job) == "sent"

    # The login form has its own token: a cookie and a field that must match.
    name, password = "alice", USERS["alice"][1]
    for what, with_field, with_cookie, headers in (
        ("no login_token", False, True, {}),
        ("no login cookie", True, False, {}),
        ("a foreign Origin", True, True, {"Origin": "http://evil.example"}),
    ):
        anonymous = requests.Session()
        good = login_token(anonymous, site)
        if not with_cookie:
            anonymous.cookies.clear()
        data = {"name": name, "password": password, "next": "/"}
        if with_field:
            data["login_token"] = good
        r = anonymous.post(site.base + "/login", data=data, headers=headers, timeout=10, allow_redirects=False)
        assert r.status_code == 403, (what, describe(r))
        assert "relance_session" not in r.headers.get("Set-Cookie", ""), (what, r.headers)
    anonymous = requests.Session()
    good = login_token(anonymous, site)
    r = anonymous.post(site.base + "/login", data={"name": name, "password": password, "login_token": good[:-2] + "xx"},
                       timeout=10, allow_redirects=False)
    assert r.status_code == 403, describe(r)
    r = anonymous.post(site.base + "/login", data={"name": name, "password": password, "login_token": good},
                       headers={"Origin": site.base}, timeout=10, allow_redirects=False)
    assert r.status_code == 303 and "relance_session=" in r.headers.get("Set-Cookie", ""), describe(r)


# 7. The viewer reads, and changes nothing


def test_viewer_reads_payers_and_jobs_but_may_not_act(site, driver):
    job = site.jobs["viewer"]
    sign_in(driver, site, "victor", page="/payers")
    fill(driver, "q", "Hélène")
    driver.find_element(By.CSS_SELECTOR, "form[role='search'] button").click()
    wait_for_text(driver, "#payer-results", "Hélène Côté Conseil")
    driver.find_element(By.LINK_TEXT, "P-HELENE-2204").click()
    wait_for_text(driver, "h1", "Hélène Côté Conseil")
    assert driver.find_elements(By.PARTIAL_LINK_TEXT, "Hold the invoice") == []
    assert driver.find_elements(By.PARTIAL_LINK_TEXT, "Cancel the case") == []
    driver.get(site.base + "/jobs?state=uncertain")
    wait_for_text(driver, "#job-list", str(job))
    driver.find_element(By.CSS_SELECTOR, f"#job-list a[href='/jobs/{job}']").click()
    wait_for_text(driver, "h1", f"Job {job}")
    assert field(driver, "State") == "uncertain"
    assert driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby='h-actions']") == []
    assert driver.find_elements(By.LINK_TEXT, "Send again") == []
    token = csrf_of(driver)

    http = browser_session(driver)
    for page in (f"/jobs/{job}/resolve?decision=requeue", f"/jobs/{job}/resolve?decision=mark-sent",
                 "/cases/DOS-HC-05/cancel", "/invoices/FA-2026-0103/hold", "/invoices/FA-2026-0103/release"):
        r = http.get(site.base + page, timeout=10, allow_redirects=False)
        assert r.status_code == 403, describe(r)
        driver.get(site.base + page)
        wait_for_text(driver, "main", "This page is not available to your role.")
        assert driver.find_elements(By.ID, "confirm") == []
        assert errors_besides_own_status(driver, site.base + page, 403) == []
    for page, data in ((f"/jobs/{job}/resolve", {"decision": "requeue", "note": "viewer"}),
                       ("/cases/DOS-HC-05/cancel", {"reason": "paid"}),
                       ("/invoices/FA-2026-0103/hold", {"until": "2099-01-01", "reason": "dispute"})):
        r = http.post(site.base + page, data=dict(data, csrf=token), headers={"Origin": site.base}, timeout=10,
                      allow_redirects=False)
        assert r.status_code == 403, describe(r)
    assert site.state(job) == "uncertain"
    invoice = site.relance.sql("SELECT hold_until FROM invoices WHERE ref = 'FA-2026-0103'")
    assert invoice == [{"hold_until": None}], invoice
    assert not any('"user":"victor"' in line and '"action":"login"' not in line and '"outcome":"ok' in line
                   for line in site.audit_lines())


# 8. The login throttle (a daemon of its own: failures count per client address too)


def fail_logins(site, name, times):
    session = requests.Session()
    for _ in range(times):
        data = {"name": name, "password": "not-the-password-0", "login_token": login_token(session, site)}
        r = session.post(site.base + "/login", data=data, timeout=10, allow_redirects=False)
        assert r.status_code == 401 and "Wrong user name or password." in r.text, describe(r)


def test_five_wrong_passwords_then_even_the_right_one_is_refused(fresh_site, driver):
    driver.get(fresh_site.base + "/login")
    driver.delete_all_cookies()
    for attempt in range(5):
        driver.get(fresh_site.base + "/login")
        submit_login(driver, "victor", f"wrong-password-{attempt:03d}")
        wait_for_text(driver, "p.error", "Wrong user name or password.")
    driver.get(fresh_site.base + "/login")
    submit_login(driver, "victor", USERS["victor"][1])
    wait_for_text(driver, "p.error[role='alert']", "Too many failed attempts: try again in a few minutes.")
    assert path_of(driver) == "/login" and driver.get_cookie("relance_session") is None
    assert driver.find_element(By.ID, "name").get_attribute("value") == "victor"
    outcomes = [line for line in fresh_site.audit_lines() if '"user":"victor"' in line]
    assert [re.search(r'"outcome":"(\w+)"', line).group(1) for line in outcomes] == ["refused"] * 5 + ["throttled"]


def test_one_users_failed_logins_do_not_lock_the_other_users_out(fresh_site, driver):
    fail_logins(fresh_site, "victor", 5)
    # alice, from the same address (behind the TLS proxy the console is meant for, every
    # user comes from the same address), signs in as usual.
    sign_in(driver, fresh_site, "alice")
    wait_for_text(driver, "h1", "Overview")


# 9. Security headers


def test_pages_carry_the_security_headers_and_the_session_cookie_is_strict(site, driver):
    http, set_cookie = signed_in(site, "alice")
    session = [c.strip() for c in set_cookie.split(",") if c.strip().startswith("relance_session=")]
    assert len(session) == 1, set_cookie
    attributes = [a.strip().lower() for a in session[0].split(";")[1:]]
    assert "httponly" in attributes and "samesite=strict" in attributes and "path=/" in attributes, attributes
    assert not any(a.startswith(("max-age", "expires")) for a in attributes), attributes  # ends with the browser

    personal = ["/", "/payers?q=dupont", "/payers/P-DUPONT-7731", "/payers/P-DUPONT-7731/history", "/jobs",
                f"/jobs/{site.jobs['email']}", f"/jobs/{site.jobs['letter']}/letter.pdf", "/log", "/audit",
                "/templates", f"/jobs/{site.jobs['csrf']}/resolve?decision=cancel", "/jobs/999999"]
    for page in ["/login"] + personal:
        client = requests.Session() if page == "/login" else http
        r = client.get(site.base + page, timeout=30, allow_redirects=False)
        assert r.status_code in (200, 404), describe(r)
        h = r.headers
        csp = {d.strip().split(" ")[0]: d.strip().split(" ")[1:] for d in h["Content-Security-Policy"].split(";")}
        for directive in ("script-src", "style-src"):
            sources = csp.get(directive, csp.get("default-src"))
            assert sources and "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, (page, csp)
        assert csp.get("frame-ancestors") == ["'none'"], (page, csp)
        assert csp.get("object-src", csp.get("default-src")) == ["'none'"], (page, csp)
        assert h["X-Content-Type-Options"] == "nosniff", (page, h)
        assert h["Referrer-Policy"] in ("no-referrer", "same-origin", "strict-origin-when-cross-origin"), (page, h)
        assert "no-store" in h.get("Cache-Control", ""), (page, h)
    # The e-mail preview is its own document: sandboxed, framed by the console only.
    r = http.get(f"{site.base}/jobs/{site.jobs['email']}/preview.html", timeout=10)
    csp = [d.strip() for d in r.headers["Content-Security-Policy"].split(";")]
    assert "sandbox" in csp and "frame-ancestors 'self'" in csp, csp
    assert r.headers["X-Content-Type-Options"] == "nosniff" and "no-store" in r.headers["Cache-Control"]
    # The live stream too.
    with http.get(site.base + "/log/events", timeout=10, stream=True) as r:
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/event-stream"), describe(r)
        assert "no-store" in r.headers["Cache-Control"], r.headers

    # And the browser keeps the session cookie as meant: out of scripts' reach, same-site only.
    sign_in(driver, site, "alice")
    cookie = session_cookie(driver)
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and "expiry" not in cookie, cookie


# 10. Language


def test_a_french_browser_gets_the_console_in_french_and_the_switch_changes_it(site, tmp_path):
    with open_browser(tmp_path, lang="fr-FR") as d:
        d.get(site.base + "/")
        wait_for_path(d, "/login")
        wait_for_text(d, "h1", "Connexion")
        assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
        assert d.find_element(By.CSS_SELECTOR, "label[for='name']").text == "Nom d’utilisateur"
        assert d.find_element(By.CSS_SELECTOR, "label[for='password']").text == "Mot de passe"
        switch = d.find_element(By.LINK_TEXT, "English")
        assert switch.get_attribute("hreflang") == "en"
        switch.click()
        wait_for_text(d, "h1", "Sign in")
        assert path_of(d) == "/login" and d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
        assert d.find_element(By.CSS_SELECTOR, "label[for='name']").text == "User name"
        d.find_element(By.LINK_TEXT, "Français").click()
        wait_for_text(d, "h1", "Connexion")
        # Signed in, the pages stay in French.
        submit_login(d, "alice", USERS["alice"][1])
        wait_for_text(d, "h1", "Vue d’ensemble")
        assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
        ageing = d.find_element(By.CSS_SELECTOR, "section[aria-labelledby='h-aging']").text
        assert re.search(r"Non échu\s+1\s890,00\s€", ageing), ageing  # U+202F and U+00A0, as French writes them
        assert console_errors(d) == []


# 11 and 12. Accessibility of every page, and the pictures of the main ones


def test_every_page_passes_axe_and_the_main_ones_are_pictured(site, driver):
    email, letter, pending = site.jobs["email"], site.jobs["letter"], site.jobs["viewer"]
    pages = [  # (path, its h1, its status if not 200, screenshot name)
        ("/payers?q=lyon", "Payers", None, None),
        ("/payers?q=dupont", "Payers", None, "payers"),
        ("/payers/P-DUPONT-7731", "Dupont & Fils <SARL>", None, "payer"),
        ("/payers/P-DUPONT-7731/history", "Printable history of the case", None, None),
        ("/jobs", "Jobs", None, None),
        (f"/jobs/{email}", f"Job {email}", None, "job"),
        (f"/jobs/{letter}", f"Job {letter}", None, None),
        (f"/jobs/{pending}", f"Job {pending}", None, None),
        ("/log", "Live delivery log", None, "live-log"),
        ("/audit", "Audit trail", None, "audit"),
        ("/templates", "Templates", None, "templates"),
        ("/templates/preview?payer=P-HELENE-2204&message=reminder-2&channel=email", "Preview", None, None),
        (f"/jobs/{pending}/resolve?decision=requeue", "Please confirm", None, None),
        ("/cases/DOS-HC-05/cancel", "Please confirm", None, None),
        ("/invoices/FA-2026-0103/hold", "Please confirm", None, None),
        ("/jobs/999999", "Error", 404, None),
    ]
    violations, errors = {}, {}

    def check(label, h1, status=None, picture=None):
        wait_for_text(driver, "h1", h1)
        if picture:  # before axe, which scrolls the page as it checks contrasts
            screenshot(driver, picture)
        found = axe_violations(driver)
        if found:
            violations[label] = found
        logged = errors_besides_own_status(driver, driver.current_url, status) if status else console_errors(driver)
        if logged:
            errors[label] = logged

    console_errors(driver)
    driver.get(site.base + "/login")
    driver.delete_all_cookies()
    driver.get(site.base + "/login")
    check("/login", "Sign in", picture="login")
    submit_login(driver, "alice", USERS["alice"][1])
    check("/ (admin)", "Overview", picture="overview")
    for page, h1, status, picture in pages:
        driver.get(site.base + page)
        check(page, h1, status, picture)
    sign_in(driver, site, "ada")
    check("/ (advisor)", "Overview", picture="advisor-overview")
    driver.get(site.base + "/payers")
    check("/payers (advisor)", "Error", 403)
    assert violations == {}, "\n".join(f"{page}: {v}" for page, found in violations.items() for v in found)
    assert errors == {}, errors


# The daemon stops with a live log open


def test_sigterm_stops_the_daemon_promptly_with_a_live_log_open(fresh_site, driver):
    sign_in(driver, fresh_site, "alice", page="/log")
    wait_for_text(driver, "#live-status", "Connected", timeout=5)
    process = fresh_site.server.process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    finally:
        still_running = process.poll() is None
        driver.get("about:blank")
        if still_running:
            process.kill()  # ours; the fixture would otherwise wait for the stream's next keep-alive
            process.wait(timeout=10)
    assert not still_running, "relance serve still running 10 s after SIGTERM while a live log is open"
    assert process.returncode == 0, fresh_site.server.log()[-2000:]
