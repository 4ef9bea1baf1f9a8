"""Browser helpers for the web console's integration tests: Debian's chromium, headless,
driven by Selenium through Debian's chromedriver, with axe-core (shipped inside the
axe-selenium-python wheel) for the accessibility checks.

    from browser import axe_violations, console_errors, open_browser, screenshot, wait_for_text

    def test_page(tmp_path):
        with open_browser(tmp_path) as driver:
            driver.get(url)
            wait_for_text(driver, "h1", "Reminders")
            violations = axe_violations(driver)
            assert not violations, "\\n".join(violations)
            assert console_errors(driver) == []
            screenshot(driver, "reminders")

or the `browser` fixture (`from browser import browser  # noqa: F401`).

Nothing here downloads anything: the driver is /usr/bin/chromedriver, named explicitly,
so Selenium Manager is never run (and SE_OFFLINE is set in case it were). Installed by
the Makefile (TEST_APT_PACKAGES_BARE, IntegrationTests/requirements-browser.txt).
"""

import contextlib
import json
import os
import pathlib
import shutil
import tempfile
import time

import pytest
from axe_selenium_python import Axe
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

# Selenium Manager would try to download a driver or a browser it thinks missing; there
# is no network here but the package registries. It is skipped anyway because the
# Service names the driver, and told to stay offline should it ever run.
os.environ.setdefault("SE_OFFLINE", "true")

REPO = pathlib.Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT_DIR = REPO / "docs" / "console"

PAGE_LOAD_TIMEOUT = 20  # seconds: driver.get() and navigations
SCRIPT_TIMEOUT = 20  # seconds: execute_async_script (axe.run)
COMMAND_TIMEOUT = 60  # seconds: any one HTTP round trip to chromedriver
WINDOW_SIZE = (1280, 900)

# Seconds the last open_browser() took from nothing to a session ready for driver.get().
last_startup_seconds = None


def chrome_options(lang="en-GB", user_data_dir=None):
    """The options open_browser() uses, for a test that needs to add one."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # the tests run as root, where chromium's sandbox refuses to start
        "--disable-gpu",
        "--disable-dev-shm-usage",  # a container's small /dev/shm would crash the renderer
        f"--window-size={WINDOW_SIZE[0]},{WINDOW_SIZE[1]}",
        f"--lang={lang}",
        "--no-first-run",
        "--disable-background-networking",  # no calls home: there is no network to call
        "--disable-component-update",
        "--disable-sync",
    ):
        options.add_argument(argument)
    if user_data_dir is not None:
        options.add_argument(f"--user-data-dir={user_data_dir}")
    # --lang sets navigator.language; the Accept-Language header the console negotiates
    # its locale from comes from this preference.
    options.add_experimental_option("prefs", {"intl.accept_languages": lang})
    options.page_load_strategy = "normal"
    # Keep the page's console (CSP reports, script errors, failed loads) for console_errors().
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


@contextlib.contextmanager
def open_browser(tmp_path=None, lang="en-GB"):
    """A webdriver.Chrome on Debian's headless chromium, quit when the block ends, however
    it ends. With tmp_path, the profile and chromedriver's log go there (the log helps when
    a test fails); otherwise into a temporary folder removed afterwards."""
    global last_startup_seconds
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            raise RuntimeError(
                f"{path} is missing: apt-get install --no-install-recommends {package} "
                "(make deps-test-system installs it)"
            )
    own_dir = None
    if tmp_path is None:
        own_dir = tempfile.mkdtemp(prefix="relance-chromium-")
        base = pathlib.Path(own_dir)
    else:
        base = pathlib.Path(tmp_path)
    profile = base / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    service = Service(executable_path=CHROMEDRIVER, log_output=str(base / "chromedriver.log"))
    driver = None
    try:
        started = time.monotonic()
        # Creating the session is bounded by Selenium's 120 s timeout on each request to
        # chromedriver; COMMAND_TIMEOUT bounds every later one.
        driver = webdriver.Chrome(options=chrome_options(lang, profile), service=service)
        driver.command_executor.client_config.timeout = COMMAND_TIMEOUT
        driver.set_page_load_timeout(PAGE_LOAD_TIMEOUT)
        driver.set_script_timeout(SCRIPT_TIMEOUT)
        driver.implicitly_wait(0)
        # --window-size is the outer window; headless chromium keeps room for a toolbar
        # (143 px here), so grow the window until the page itself, and so a screenshot,
        # is exactly WINDOW_SIZE.
        inner = driver.execute_script("return [window.innerWidth, window.innerHeight];")
        if tuple(inner) != WINDOW_SIZE:
            outer = driver.get_window_size()
            driver.set_window_size(
                outer["width"] + WINDOW_SIZE[0] - inner[0], outer["height"] + WINDOW_SIZE[1] - inner[1]
            )
        last_startup_seconds = time.monotonic() - started
        yield driver
    finally:
        if driver is not None:
            driver.quit()  # also stops chromedriver, even when the session is gone
        else:
            service.stop()
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)


@pytest.fixture
def browser(tmp_path):
    """A headless chromium for one test (open_browser with the test's tmp_path)."""
    with open_browser(tmp_path) as driver:
        yield driver


_AXE_SOURCE = None


def _axe_source():
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        # The axe-core build that axe-selenium-python carries in its wheel.
        with open(Axe(None).script_url, encoding="utf-8") as f:
            _AXE_SOURCE = f.read()
    return _AXE_SOURCE


def axe_version(driver):
    """axe-core's version, as the page sees it after injection."""
    _inject_axe(driver)
    return driver.execute_script("return axe.version;")


def _inject_axe(driver):
    # execute_script runs through the DevTools protocol, to which the page's
    # Content-Security-Policy does not apply: no 'unsafe-inline' or 'unsafe-eval' needed
    # (IntegrationTests/test_browser_smoke.py holds this true under a strict CSP).
    if not driver.execute_script("return typeof window.axe === 'object';"):
        driver.execute_script(_axe_source())


_RUN_AXE = """
const done = arguments[arguments.length - 1];
const context = arguments[0] === null ? document : arguments[0];
const options = arguments[1] === null ? {} : arguments[1];
axe.run(context, options).then(
  (results) => done({violations: results.violations}),
  (error) => done({error: String(error && error.stack || error)}));
"""


def axe_violations(driver, impacts=("serious", "critical"), context=None, options=None, max_targets=3):
    """Runs axe-core on the current page and returns its violations whose impact is in
    `impacts`, one readable line each (rule id, impact, help, the first few nodes' CSS
    targets), ready for `assert not violations, "\\n".join(violations)`. `context` and
    `options` are axe.run's (e.g. options={"rules": {"color-contrast": {"enabled": False}}})."""
    _inject_axe(driver)
    result = driver.execute_async_script(_RUN_AXE, context, options)
    if not isinstance(result, dict) or "error" in result:
        raise RuntimeError(f"axe.run failed on {driver.current_url}: {result}")
    lines = []
    for violation in result["violations"]:
        if violation.get("impact") not in impacts:
            continue
        nodes = violation.get("nodes", [])
        targets = [" ".join(map(str, node.get("target", []))) for node in nodes[:max_targets]]
        more = f" (+{len(nodes) - max_targets} more)" if len(nodes) > max_targets else ""
        lines.append(
            f"{violation['id']} [{violation['impact']}] {violation.get('help', '')}: "
            f"{json.dumps(targets)}{more}"
        )
    return lines


def console_errors(driver):
    """The page console's errors (level SEVERE) since the last call: refused inline scripts
    or styles (Content-Security-Policy), uncaught exceptions, failed loads. Reading them
    empties chromium's buffer."""
    return [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


def screenshot(driver, name, directory=None):
    """Saves the page's window (WINDOW_SIZE, 1280x900) as <directory>/<name>.png, directory defaulting to the
    repository's docs/console/. Written only when RELANCE_TEST_SCREENSHOTS=1 or when the
    file does not exist yet, so that `make test` on a clean clone leaves the tracked
    pictures alone. Returns the path either way."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"screenshot name must be a plain file name: {name!r}")
    folder = pathlib.Path(directory) if directory is not None else SCREENSHOT_DIR
    path = folder / f"{name}.png"
    if os.environ.get("RELANCE_TEST_SCREENSHOTS") == "1" or not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        png = driver.get_screenshot_as_png()
        partial = path.with_name(f".{path.name}.partial")
        partial.write_bytes(png)
        os.replace(partial, path)
    return path


def wait_for_text(driver, css_selector, text, timeout=10):
    """Waits, at most `timeout` seconds, until an element matching `css_selector` shows
    `text` (its visible text contains it), and returns that element. Raises AssertionError
    naming what the matching elements showed instead."""
    if not 0 < timeout <= 120:
        raise ValueError(f"timeout must be within (0, 120] seconds: {timeout}")

    def found(d):
        for element in d.find_elements(By.CSS_SELECTOR, css_selector):
            if text in element.text:
                return element
        return False

    try:
        return WebDriverWait(
            driver, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,)
        ).until(found)
    except TimeoutException:
        try:
            seen = [element.text for element in driver.find_elements(By.CSS_SELECTOR, css_selector)]
        except Exception as error:  # the page may be navigating away
            seen = [f"<unreadable: {error.__class__.__name__}>"]
        shown = "no element matched" if not seen else "; ".join(repr(s[:200]) for s in seen[:5])
        raise AssertionError(
            f"{text!r} not in any {css_selector!r} after {timeout} s on {driver.current_url}: {shown}"
        ) from None
