"""`relance doctor`: one line per check, ok or FAIL, against real peers."""

from conftest import Relance, free_port
from kannel import Kannel


def doctor(r):
    result = r.run("doctor", check=False)
    lines = {line.split(":")[0].split(None, 1)[1]: line for line in result.stdout.splitlines() if ":" in line}
    return result.returncode, lines, result.stdout


def test_doctor_all_ok_with_a_real_smtp_server_and_kannel(tmp_path, smtp):
    k = Kannel(tmp_path / "kannel").start()
    try:
        (tmp_path / "pw").write_text(k.password)
        (tmp_path / "cb").write_text("callback-secret-0123456789")
        r = Relance(tmp_path / "r", smtp_port=smtp.port, extra=f"""
sms:
  transport: kannel
  sender: Relance
  connect_timeout: 1
  timeout: 3
  callback_base_url: http://127.0.0.1:8425
  callback_secret_file: {tmp_path / 'cb'}
  kannel:
    url: {k.url}
    username: {k.username}
    password_file: {tmp_path / 'pw'}
""")
        r.run("migrate")
        code, lines, out = doctor(r)
        assert code == 0, out
        for check in ("configuration", "creditor", "database", "templates", "smtp", "sms gateway", "delivery reports"):
            assert lines[check].startswith("ok "), out
        assert "answers EHLO" in lines["smtp"] and "offers PIPELINING" in lines["smtp"]
        assert lines["letter spool"].startswith("ok ") and lines["fonts"].startswith("ok "), out
        assert "DejaVu Sans" in lines["fonts"]
        assert smtp.count() == 0  # nothing was sent
        # What sendsms cannot tell is said, with what to check (defect 18 of "Nothing malformed gets in").
        assert lines["sms long messages"].startswith("-- ") and "max-messages >= 6" in lines["sms long messages"], out
        # Wrong Kannel password: the gateway refuses the credentials.
        (tmp_path / "pw").write_text("not-the-password")
        code, lines, out = doctor(r)
        assert code == 1 and lines["sms gateway"].startswith("FAIL ") and "403" in lines["sms gateway"], out
        assert "not-the-password" not in out and k.password not in out
    finally:
        k.stop()


def test_doctor_names_what_is_wrong(tmp_path):
    closed = free_port()
    r = Relance(tmp_path / "r", smtp_port=closed)
    code, lines, out = doctor(r)  # not migrated, SMTP server absent
    assert code == 1, out
    assert lines["database"].startswith("FAIL ") and "relance migrate" in lines["database"], out
    assert lines["smtp"].startswith("FAIL ") and f"127.0.0.1:{closed}" in lines["smtp"], out
    assert lines["templates"].startswith("ok "), out
    r.run("migrate")
    code, lines, out = doctor(r)
    assert lines["database"].startswith("ok "), out
