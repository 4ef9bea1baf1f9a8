"""The browser stack the console's tests stand on (IntegrationTests/browser.py): Debian's
headless chromium starts through chromedriver, axe-core runs under the console's strict
Content-Security-Policy and does find a serious violation, wait_for_text waits and fails
with a useful message, screenshot writes only what it should. Static pages from a server
on 127.0.0.1; a few seconds in all."""

import http.server
import struct
import threading

import pytest

from browser import axe_version, axe_violations, console_errors, open_browser, screenshot, wait_for_text

# What the console serves: no inline script or style, no eval.
CSP = "default-src 'self'; script-src 'self'; style-src 'self'"

PAGES = {
    "/good.html": (
        "text/html; charset=utf-8",
        """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Reminders</title><link rel="stylesheet" href="/style.css"></head>
<body>
<header><h1>Reminders</h1></header>
<main>
  <p>Three invoices are overdue.</p>
  <img src="/pixel.svg" alt="Relance" width="20" height="20">
  <form action="/good.html" method="get">
    <label for="payer">Payer</label> <input id="payer" name="payer" type="text">
    <button type="submit">Search</button>
  </form>
  <p id="status">Loading</p>
</main>
<script src="/app.js"></script>
</body>
</html>
""",
    ),
    "/bad.html": (
        "text/html; charset=utf-8",
        """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Broken</title></head>
<body>
<main>
  <h1>Broken</h1>
  <img src="/pixel.svg" id="logo">
  <form action="/bad.html" method="get"><input id="amount" name="amount" type="text"></form>
  <p id="inline">inline script blocked</p>
</main>
<script>document.getElementById("inline").textContent = "inline script ran";</script>
</body>
</html>
""",
    ),
    "/style.css": ("text/css", "body { font-family: sans-serif; color: #111; background: #fff; }\n"),
    # A same-origin script, allowed by the CSP, that changes the page a little later.
    # It also records whether the page may eval: the CSP must refuse it.
    "/app.js": (
        "text/javascript",
        """try { eval("1"); document.body.dataset.eval = "ran"; }
catch (e) { document.body.dataset.eval = e.name; }
setTimeout(() => { document.getElementById("status").textContent = "3 reminders due"; }, 300);
""",
    ),
    "/favicon.ico": (
        "image/svg+xml",
        '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16" fill="#246"/></svg>\n',
    ),
    "/pixel.svg": (
        "image/svg+xml",
        '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><rect width="20" height="20" fill="#246"/></svg>\n',
    ),
}


class Handler(http.server.BaseHTTPRequestHandler):
    timeout = 5  # seconds a connection may sit idle
    seen_languages = []

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path not in PAGES:
            self.send_error(404)
            return
        if path.endswith(".html"):
            Handler.seen_languages.append(self.headers.get("Accept-Language", ""))
        content_type, body = PAGES[path]
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy", CSP)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    # One browser for the module: chromium's start is most of this file's time.
    with open_browser(tmp_path_factory.mktemp("chromium")) as d:
        yield d


def test_chromium_is_debian_headless_and_speaks_british_english(driver, site):
    caps = driver.capabilities
    assert caps["browserName"] == "chrome"
    assert caps["browserVersion"].split(".")[0] == caps["chrome"]["chromedriverVersion"].split(".")[0]
    driver.get(f"{site}/good.html")
    assert "HeadlessChrome" in driver.execute_script("return navigator.userAgent;")
    assert driver.execute_script("return navigator.language;") == "en-GB"
    assert Handler.seen_languages[-1].startswith("en-GB")
    assert driver.execute_script("return [window.innerWidth, window.innerHeight];") == [1280, 900]


def test_axe_finds_nothing_on_an_accessible_page_under_the_csp(driver, site):
    driver.get(f"{site}/good.html")
    wait_for_text(driver, "#status", "3 reminders due", timeout=5)  # 'self' scripts run
    # The CSP is in force: the page's own script may not eval.
    assert driver.find_element("tag name", "body").get_attribute("data-eval") == "EvalError"
    assert axe_version(driver).split(".")[0] in ("3", "4")
    violations = axe_violations(driver)
    assert violations == [], "\n".join(violations)
    # Neither the page nor axe's injection broke the CSP (eval's refusal was caught).
    assert console_errors(driver) == []


def test_axe_names_serious_violations_under_the_csp(driver, site):
    driver.get(f"{site}/bad.html")
    # The CSP is in force on this page too: its inline script did not run.
    assert driver.find_element("id", "inline").text == "inline script blocked"
    errors = console_errors(driver)
    assert any("Content Security Policy" in e and "inline script" in e for e in errors), errors
    violations = axe_violations(driver)
    assert any(v.startswith("image-alt [critical]") and "#logo" in v for v in violations), violations
    assert any(v.startswith("label [critical]") and "#amount" in v for v in violations), violations
    # The impact filter works: nothing of these is minor.
    assert axe_violations(driver, impacts=("minor",)) == []


def test_wait_for_text_fails_naming_what_it_saw(driver, site):
    driver.get(f"{site}/good.html")
    with pytest.raises(AssertionError) as failure:
        wait_for_text(driver, "h1", "Invoices", timeout=0.5)
    assert "'Reminders'" in str(failure.value) and "'h1'" in str(failure.value)
    with pytest.raises(AssertionError, match="no element matched"):
        wait_for_text(driver, "#nowhere", "x", timeout=0.3)


def test_screenshot_writes_once_unless_asked(driver, site, tmp_path, monkeypatch):
    monkeypatch.delenv("RELANCE_TEST_SCREENSHOTS", raising=False)
    driver.get(f"{site}/good.html")
    path = screenshot(driver, "good", directory=tmp_path / "console")
    png = path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1280, 900)
    path.write_bytes(b"kept")
    assert screenshot(driver, "good", directory=tmp_path / "console").read_bytes() == b"kept"
    monkeypatch.setenv("RELANCE_TEST_SCREENSHOTS", "1")
    assert screenshot(driver, "good", directory=tmp_path / "console").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ValueError):
        screenshot(driver, "../escape", directory=tmp_path)
