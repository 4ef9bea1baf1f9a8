"""Deployment: the systemd unit (verify, hardening score), `make install` into a
DESTDIR, the shipped sample configuration, and the Debian package installed with dpkg
(user, directories, conffile kept on remove and upgrade, purge).

The install and package tests reuse the debug binary that `make test` has just built
(`BIN_SOURCE=` / `DEB_BINARY=`), so that they cost seconds, not a release build; the
real package is built from the static release binary (`make deb`, README "Deployment")."""

import fcntl
import os
import pathlib
import pwd
import re
import shutil
import subprocess

import pytest

from conftest import BIN, REPO

UNIT = REPO / "systemd" / "relance.service"
SAMPLE = REPO / "deploy" / "relance.yaml"
MAX_EXPOSURE = 2.0


def sh(*args, check=True, timeout=300, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {result.returncode}:\n{result.stderr}\n{result.stdout}")
    return result


# Variables the Makefile reads with ?= or from an enclosing `make test`: the tests say
# what they want on the command line and nothing else leaks in.
MAKE_ENV_DROP = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "PREFIX", "DESTDIR", "BIN_SOURCE", "VERSION",
                 "DEB_BINARY", "DEB_DIR", "DEB_ARCH", "DEB_STRIP", "DEB_COMPRESS")


def make(*args, timeout=600):
    env = {k: v for k, v in os.environ.items() if k not in MAKE_ENV_DROP}
    return sh("make", "--no-print-directory", "-C", str(REPO), *args, timeout=timeout, env=env)


def systemd_analyze():
    path = shutil.which("systemd-analyze")
    if path is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    return path


def verify_unit(unit_text, tmp_path, binary):
    """`systemd-analyze verify` wants ExecStart= to exist: checks a copy whose
    ExecStart points at `binary` (the installed path does not exist here)."""
    copy = tmp_path / "verify" / "relance.service"
    copy.parent.mkdir(exist_ok=True)
    copy.write_text(re.sub(r"^ExecStart=(/usr/bin/env relance|\S+)", f"ExecStart={binary}", unit_text, flags=re.M))
    result = sh(systemd_analyze(), "verify", str(copy), check=False)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr + result.stdout


def exposure(unit):
    result = sh(systemd_analyze(), "security", "--offline=true", str(unit), check=False)
    found = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout)
    assert found, result.stdout + result.stderr
    return float(found.group(1))


def test_unit_verifies_and_is_hardened(tmp_path):
    text = UNIT.read_text()
    # As it stands in the repository (ExecStart finds relance on systemd's PATH)…
    plain = sh(systemd_analyze(), "verify", str(UNIT), check=False)
    assert plain.returncode == 0 and plain.stderr.strip() == "", plain.stderr + plain.stdout
    # …and as installed, with the binary's absolute path.
    verify_unit(text, tmp_path, BIN)
    score = exposure(UNIT)
    assert score <= MAX_EXPOSURE, f"systemd-analyze security: exposure {score} > {MAX_EXPOSURE}"
    for line in (
        "Type=notify", "User=relance", "StateDirectory=relance", "ConfigurationDirectory=relance",
        "ExecStart=/usr/bin/env relance serve --config /etc/relance/relance.yaml", "ExecReload=/bin/kill -HUP $MAINPID",
        "Restart=on-failure", "UMask=0077",
    ):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line
    # SIGTERM drains in-flight jobs for dispatcher.drain_timeout (30s): systemd must wait longer.
    stop = int(re.search(r"^TimeoutStopSec=(\d+)s$", text, re.M).group(1))
    assert stop > 30
    # A fresh install has no secret: no active LoadCredential= (a missing file fails the start).
    assert not re.search(r"^LoadCredential", text, re.M)


def installed_env(root, state):
    """The installed config with only what a DESTDIR install cannot know redirected."""
    share = root / "usr" / "share" / "relance"
    return dict(
        os.environ,
        RELANCE_STATE_DIRECTORY=str(state),
        RELANCE_TEMPLATES_DIRECTORY=str(share / "templates"),
        RELANCE_API_OPENAPI_FILE=str(share / "openapi.yaml"),
        RELANCE_API_ENABLED="false",
    )


def test_make_install_into_destdir_runs_with_the_installed_config(tmp_path):
    root = tmp_path / "root"
    out = make("install", f"DESTDIR={root}", "PREFIX=/usr", f"BIN_SOURCE={BIN}").stdout
    binary = root / "usr/bin/relance"
    config = root / "etc/relance/relance.yaml"
    unit = root / "lib/systemd/system/relance.service"
    share = root / "usr/share/relance"
    assert os.access(binary, os.X_OK) and config.is_file() and unit.is_file()
    assert (share / "openapi.yaml").read_text() == (REPO / "openapi.yaml").read_text()
    assert (share / "templates/samples/reminder-1.json").is_file()
    assert (root / "usr/share/doc/relance/README.md").is_file()
    # PREFIX=/usr: the unit as written, with the binary's absolute path.
    assert unit.read_text() == UNIT.read_text().replace("/usr/bin/env relance", "/usr/bin/relance")
    assert "installed" in out

    text = config.read_text()
    assert "directory: /usr/share/relance/templates" in text
    assert "openapi_file: /usr/share/relance/openapi.yaml" in text
    verify_unit(unit.read_text(), tmp_path, binary)

    cwd = tmp_path / "elsewhere"  # no ./Templates nor ./openapi.yaml to fall back on
    cwd.mkdir()
    state = tmp_path / "state"
    env = installed_env(root, state)

    def relance(*args):
        return sh(str(binary), *args, "--config", str(config), env=env, cwd=cwd, timeout=120)

    check = relance("config", "check").stdout
    assert "email.transport (effective) = outbox" in check and "sms.transport = outbox" in check
    relance("templates", "check", "--directory", str(share / "templates"))
    relance("payer", "upsert", "--ref", "ACME", "--name", "Boulangerie Martin", "--locale", "fr-FR",
            "--email", "compta@martin.example.fr", "--phone", "+33612345678")
    sample = (share / "templates/samples/reminder-1.json").read_text()
    relance("enqueue", "--payer", "ACME", "--template", "reminder-1", "--case", "F-1", "--data", sample)
    relance("serve", "--until-idle")
    assert len(list((state / "outbox").glob("*.eml"))) == 1
    assert "sent" in relance("jobs", "list").stdout

    # Again: an existing (edited) configuration is never overwritten.
    config.write_text(text + "\n# edited by the administrator\n")
    out = make("install", f"DESTDIR={root}", "PREFIX=/usr", f"BIN_SOURCE={BIN}").stdout
    assert config.read_text().endswith("# edited by the administrator\n")
    assert (root / "etc/relance/relance.yaml.new").read_text() == text
    assert "was kept" in out

    make("uninstall", f"DESTDIR={root}", "PREFIX=/usr")
    assert not binary.exists() and not share.exists() and not unit.exists()
    assert config.exists()


def test_make_install_prefix_rewrites_the_paths(tmp_path):
    root = tmp_path / "root"
    make("install", f"DESTDIR={root}", f"BIN_SOURCE={BIN}")  # default PREFIX=/usr/local
    assert (root / "usr/local/bin/relance").is_file()
    unit = (root / "lib/systemd/system/relance.service").read_text()
    assert "ExecStart=/usr/local/bin/relance serve --config /etc/relance/relance.yaml" in unit
    config = (root / "etc/relance/relance.yaml").read_text()
    assert "directory: /usr/local/share/relance/templates" in config
    assert "openapi_file: /usr/local/share/relance/openapi.yaml" in config
    assert "/usr/share/relance" not in config
    assert exposure(root / "lib/systemd/system/relance.service") <= MAX_EXPOSURE


def test_sample_config_needs_no_secret_and_every_commented_option_is_valid(tmp_path):
    env = dict(os.environ, RELANCE_TEMPLATES_DIRECTORY=str(REPO / "Templates"))
    env.pop("CREDENTIALS_DIRECTORY", None)
    result = sh(BIN, "config", "check", "--config", str(SAMPLE), env=env, cwd=tmp_path)
    assert "state_directory = /var/lib/relance" in result.stdout
    assert "api.listen = 127.0.0.1:8425" in result.stdout and "api.tokens_file" not in result.stdout

    # Uncomment every option: all keys exist and have valid values; the secrets they
    # name are found in $CREDENTIALS_DIRECTORY under the LoadCredential= names.
    lines = []
    for line in SAMPLE.read_text().splitlines():
        m = re.match(r"^(\s*)# ?( *)([a-z_][a-z0-9_]*:(?: .*)?|- .*)$", line)
        lines.append(m.group(1) + m.group(2) + m.group(3) if m else line)
    everything = tmp_path / "everything.yaml"
    everything.write_text("\n".join(lines) + "\n")
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    for name in ("smtp-password", "kannel-password", "twilio-token", "db-password"):
        (credentials / name).write_text("s3cret\n")
    (credentials / "api-tokens").write_text("billing enqueue,read " + "t" * 32 + "\n")
    (credentials / "callback-secret").write_text("0123456789abcdef0123\n")
    (credentials / "webhook-headers").write_text("X-Api-Key: s3cret\n")
    (credentials / "bounce-secret").write_text("0123456789abcdef0123\n")
    (credentials / "payment-link-secret").write_text("0123456789abcdef0123\n")
    sh(BIN, "console", "user", "add", "alice", "--role", "admin", "--file", str(credentials / "console-users"),
       "--password-stdin", input="a long enough password\n")
    (credentials / "console-users.lock").unlink()
    for algorithm in ("ed25519", "rsa"):
        sh(BIN, "dkim", "keygen", "--selector", "s", "--domain", "lumen-conseil.example", "--algorithm", algorithm,
           "--key-file", str(credentials / f"dkim-{algorithm}.key"))
    env["CREDENTIALS_DIRECTORY"] = str(credentials)
    for transport in ("kannel", "twilio", "webhook"):
        result = sh(BIN, "config", "check", "--config", str(everything), env=dict(
            env, RELANCE_SMS_TRANSPORT=transport, RELANCE_EMAIL_TRANSPORT="smtp"), cwd=tmp_path)
        assert "smtp.host = smtp.lumen-conseil.example" in result.stdout
        assert "s3cret" not in result.stdout
    # The unit's commented LoadCredential= names match the file names the sample uses.
    unit_names = set(re.findall(r"^#LoadCredential=([a-z0-9.-]+):/etc/relance/\1$", UNIT.read_text(), re.M))
    assert unit_names == {p.name for p in credentials.iterdir()}


def config_check(tmp_path, text, **env):
    config = tmp_path / "relance.yaml"
    config.write_text(text)
    environment = {k: v for k, v in os.environ.items() if k != "CREDENTIALS_DIRECTORY"}
    environment.update(env)
    return sh(BIN, "config", "check", "--config", str(config), check=False, env=environment, cwd=REPO)  # where the default templates directory exists


def test_config_check_names_the_bad_port_the_nested_typo_and_the_missing_secret(tmp_path):
    # (Unknown top-level keys and wrong types: test_outbox_and_cli.py.)
    result = config_check(tmp_path, "smtp:\n  host: 127.0.0.1\n  port: 70000\n")
    assert result.returncode != 0 and "relance.yaml: smtp.port: 70000 is outside 1…65535" in result.stderr
    result = config_check(tmp_path, "api:\n  listen: 127.0.0.1:99999\n")
    assert result.returncode != 0 and "api.listen: '127.0.0.1:99999' is not HOST:PORT" in result.stderr
    result = config_check(tmp_path, "sms:\n  kannel:\n    passwrd_file: x\n")
    assert result.returncode != 0
    assert "relance.yaml:3: unknown key 'sms.kannel.passwrd_file'" in result.stderr
    assert "password_file" in result.stderr.split("known in this section:")[1]
    missing = tmp_path / "nowhere" / "smtp-password"
    result = config_check(tmp_path, f"smtp:\n  host: 127.0.0.1\n  password_file: {missing}\n")
    assert result.returncode != 0
    assert f"smtp.password_file: cannot read secret file {missing}" in result.stderr
    # A credential name that systemd did not load (no LoadCredential= line for it).
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    result = config_check(tmp_path, "api:\n  tokens_file: api-tokens\n", CREDENTIALS_DIRECTORY=str(credentials))
    assert result.returncode != 0 and "api.tokens_file: cannot read secret file api-tokens" in result.stderr
    (credentials / "api-tokens").write_text("ops admin " + "a" * 32 + "\n")
    result = config_check(tmp_path, "api:\n  tokens_file: api-tokens\n", CREDENTIALS_DIRECTORY=str(credentials))
    assert result.returncode == 0, result.stderr
    assert "a" * 32 not in result.stdout


def dpkg_status(package="relance"):
    result = sh("dpkg-query", "-W", "-f=${Status}", package, check=False)
    return result.stdout if result.returncode == 0 else ""


def build_deb(tmp_path, version):
    out = tmp_path / f"dist-{version}"
    make("deb", f"VERSION={version}", f"DEB_BINARY={BIN}", "DEB_COMPRESS=none", f"DEB_DIR={out}")
    debs = list(out.glob(f"relance_{version}_*.deb"))
    assert len(debs) == 1, list(out.iterdir())
    return debs[0]


@pytest.fixture
def system_lock():
    """The package test installs into this machine: two test runs (two clones) take
    turns instead of installing and purging under each other's feet."""
    with open("/tmp/relance-package-test.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def test_debian_package_installs_upgrades_removes_and_purges(tmp_path, system_lock):
    if shutil.which("dpkg-deb") is None or shutil.which("dpkg") is None:
        pytest.skip("not a Debian system (no dpkg)")
    if os.geteuid() != 0:
        pytest.skip("installing a package with dpkg -i needs root")
    if dpkg_status() or os.path.exists("/usr/bin/relance"):
        pytest.skip("relance is already installed on this machine: not touching it")
    if os.path.exists("/var/lib/relance") or os.path.exists("/etc/relance"):
        pytest.skip("/var/lib/relance or /etc/relance exists: purging would destroy it")
    user_existed = True
    try:
        pwd.getpwnam("relance")
    except KeyError:
        user_existed = False

    deb = build_deb(tmp_path, "0.4.0")
    info = sh("dpkg-deb", "-f", str(deb), "Package", "Version", "Depends").stdout
    assert "Package: relance" in info and "Version: 0.4.0" in info
    for dependency in ("adduser", "libcurl4", "libsqlite3-0", "libssl3"):
        assert dependency in info
    control = sh("dpkg-deb", "-I", str(deb), "conffiles").stdout
    assert control.strip() == "/etc/relance/relance.yaml"
    contents = sh("dpkg-deb", "-c", str(deb)).stdout
    for path in ("./usr/bin/relance", "./usr/share/relance/openapi.yaml", "./usr/share/relance/templates/",
                 "./etc/relance/relance.yaml", "./lib/systemd/system/relance.service",
                 "./usr/share/doc/relance/README.md", "./usr/share/doc/relance/SMS.md",
                 "./usr/share/doc/relance/copyright"):
        assert f" {path}\n" in contents, path
    assert "root/root" in contents and "/var/lib/relance" not in contents

    try:
        result = sh("dpkg", "-i", str(deb), env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        assert "systemctl enable --now relance" in result.stdout  # told how, not started
        assert dpkg_status() == "install ok installed"
        user = pwd.getpwnam("relance")
        assert user.pw_uid < 1000 and user.pw_dir == "/var/lib/relance"
        state = os.stat("/var/lib/relance")
        assert state.st_uid == user.pw_uid and state.st_mode & 0o777 == 0o750
        assert pathlib.Path("/etc/relance/relance.yaml").read_text() == SAMPLE.read_text()
        assert pathlib.Path("/lib/systemd/system/relance.service").read_text() == UNIT.read_text().replace(
            "/usr/bin/env relance", "/usr/bin/relance")

        cwd = tmp_path / "elsewhere"
        cwd.mkdir()
        assert "serve" in sh("/usr/bin/relance", "--help", cwd=cwd).stdout
        sh("/usr/bin/relance", "templates", "check", "--directory", "/usr/share/relance/templates", cwd=cwd)
        env = dict(os.environ, RELANCE_API_ENABLED="false")
        env.pop("RELANCE_CONFIG", None)
        sh("/usr/bin/relance", "config", "check", "--config", "/etc/relance/relance.yaml", cwd=cwd, env=env)
        # As the service would: user relance, the shipped configuration, the state
        # directory postinst made (the API is off only to leave port 8425 alone).
        as_relance = ["runuser", "-u", "relance", "--", "/usr/bin/relance"]
        conf = ["--config", "/etc/relance/relance.yaml"]
        sh(*as_relance, "payer", "upsert", "--ref", "ACME", "--name", "Boulangerie Martin", "--locale", "fr-FR",
           "--email", "compta@martin.example.fr", *conf, cwd="/", env=env)
        sample = (REPO / "Templates/samples/reminder-1.json").read_text()
        sh(*as_relance, "enqueue", "--payer", "ACME", "--template", "reminder-1", "--data", sample, *conf,
           cwd="/", env=env)
        sh(*as_relance, "serve", "--until-idle", *conf, cwd="/", env=env)
        assert len(list(pathlib.Path("/var/lib/relance/outbox").glob("*.eml"))) == 1

        # Upgrade: the edited configuration and the data stay.
        edited = pathlib.Path("/etc/relance/relance.yaml").read_text() + "\n# local change\n"
        pathlib.Path("/etc/relance/relance.yaml").write_text(edited)
        deb2 = build_deb(tmp_path, "0.4.1")
        sh("dpkg", "-i", "--force-confold", str(deb2), env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        assert sh("dpkg-query", "-W", "-f=${Version}", "relance").stdout == "0.4.1"
        assert pathlib.Path("/etc/relance/relance.yaml").read_text() == edited
        assert pathlib.Path("/var/lib/relance/relance.sqlite").is_file()

        # Remove: the program goes, the configuration (conffile) and the data stay.
        sh("dpkg", "-r", "relance")
        assert not os.path.exists("/usr/bin/relance")
        assert not os.path.exists("/lib/systemd/system/relance.service")
        assert not os.path.exists("/usr/share/relance")
        assert pathlib.Path("/etc/relance/relance.yaml").read_text() == edited
        assert pathlib.Path("/var/lib/relance/relance.sqlite").is_file()
        assert dpkg_status() == "deinstall ok config-files"

        # Purge: configuration and data go too.
        sh("dpkg", "--purge", "relance")
        assert not os.path.exists("/etc/relance")
        assert not os.path.exists("/var/lib/relance")
        assert dpkg_status() in ("", "unknown ok not-installed")
    finally:
        if dpkg_status():
            sh("dpkg", "-r", "relance", check=False)
            sh("dpkg", "--purge", "relance", check=False)
        if not user_existed:
            sh("deluser", "--system", "relance", check=False)
            sh("delgroup", "--system", "relance", check=False)
