"""Who may see what: passwords, the users file and its command, unit scoping in the data layer,
the login in the app and in a real browser, and the audit log of downloads.

The warehouse is the one the real pipeline builds from raw/ (the session fixture).
"""

from __future__ import annotations

import csv as csv_module
import inspect
import io
import json
import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import auth, data, ui
from tests import dashboard_server

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
ARTIFACTS = ROOT / "tests" / "artifacts"
YEAR = 2024
TIMEOUT = 30
BUREAU_PASSWORD = "县局-复核-2024"
UNIT_PASSWORD = "单位 密码 o'k \"q\""


def _fetch(db: Path, sql: str, *params):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


@pytest.fixture(scope="module")
def units(sample_warehouse: Path) -> tuple[str, str]:
    """(own, other): the scoped unit has scores in several years, findings, report figures and targets."""
    own, other = [name for (name,) in _fetch(sample_warehouse, """
        SELECT s.unit_name FROM unit_scores s
        WHERE EXISTS (SELECT 1 FROM findings f WHERE f.unit_name = s.unit_name)
          AND EXISTS (SELECT 1 FROM report_figures r WHERE r.unit_name = s.unit_name)
          AND EXISTS (SELECT 1 FROM targets t WHERE t.unit_name = s.unit_name)
        GROUP BY s.unit_name HAVING count(DISTINCT s.year) >= 2
        ORDER BY (SELECT count(*) FROM findings f WHERE f.unit_name = s.unit_name) DESC, s.unit_name
        LIMIT 2""")]
    return own, other


@pytest.fixture
def warehouse(sample_warehouse: Path, monkeypatch, tmp_path) -> Path:
    monkeypatch.setenv("PERF_DB", str(sample_warehouse))
    monkeypatch.setenv("PERF_AUDIT_LOG", str(tmp_path / "audit" / "downloads.jsonl"))
    monkeypatch.delenv("PERF_AUTH", raising=False)
    return sample_warehouse


# --- passwords and the users file -----------------------------------------------------


def test_password_hash_is_salted_scrypt_and_checks_only_the_right_password():
    first, second = auth.hash_password("correct horse"), auth.hash_password("correct horse")
    assert first != second  # a salt of its own each time
    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, int(n), len(bytes.fromhex(salt)), len(bytes.fromhex(digest))) == ("scrypt", 2**14, 16, 32)
    assert "correct horse" not in first
    assert auth.verify_password("correct horse", first) and auth.verify_password("correct horse", second)
    assert not auth.verify_password("correct horsE", first)
    assert not auth.verify_password("", first)
    tampered = first[:-1] + ("0" if first[-1] != "0" else "1")
    assert not auth.verify_password("correct horse", tampered)
    for broken in ("", "plain-text", "md5$1$2$3$00$00", first.replace("scrypt", "pbkdf2")):
        assert not auth.verify_password("correct horse", broken)


def _cli(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard.auth", *args], input=stdin, cwd=ROOT, text=True,
                          capture_output=True, timeout=60, env={**os.environ, **(env or {})})


def test_add_user_command_writes_a_users_file_the_dashboard_reads(tmp_path, sample_warehouse, units):
    own, _ = units
    users = tmp_path / "users.toml"
    env = {"PERF_DB": str(sample_warehouse)}
    added = _cli("add-user", "--file", str(users), "--name", "张三", "--role", "bureau", "--password-stdin",
                 stdin=BUREAU_PASSWORD + "\n", env=env)
    assert added.returncode == 0, added.stderr
    added = _cli("add-user", "--file", str(users), "--name", 'unit "a"', "--role", "unit", "--unit", own,
                 "--password-stdin", stdin=UNIT_PASSWORD + "\n", env=env)
    assert added.returncode == 0, added.stderr
    assert "看不到任何数据" not in added.stderr  # the unit is on the warehouse's roster
    proxy_only = _cli("add-user", "--file", str(users), "--name", "lisi", "--role", "unit", "--unit", "遂溪县某不存在局",
                      "--no-password", env=env)
    assert proxy_only.returncode == 0 and "看不到任何数据" in proxy_only.stderr

    text = users.read_text(encoding="utf-8")
    assert BUREAU_PASSWORD not in text and UNIT_PASSWORD not in text
    assert users.stat().st_mode & 0o077 == 0  # readable by its owner only
    accounts = auth.read_users(users)
    assert set(accounts) == {"张三", 'unit "a"', "lisi"}
    assert auth.authenticate(accounts, "张三", BUREAU_PASSWORD) == auth.Viewer("张三", "bureau")
    assert auth.authenticate(accounts, 'unit "a"', UNIT_PASSWORD) == auth.Viewer('unit "a"', "unit", own)
    assert auth.authenticate(accounts, "张三", UNIT_PASSWORD) is None
    assert auth.authenticate(accounts, "nobody", BUREAU_PASSWORD) is None
    assert auth.authenticate(accounts, "lisi", "") is None  # no password: header mode only

    # Adding an existing name replaces it (a new password); removing takes it out.
    assert _cli("add-user", "--file", str(users), "--name", "张三", "--role", "bureau", "--password-stdin",
                stdin="another-password\n").returncode == 0
    accounts = auth.read_users(users)
    assert auth.authenticate(accounts, "张三", BUREAU_PASSWORD) is None
    assert auth.authenticate(accounts, "张三", "another-password") is not None
    assert _cli("remove-user", "--file", str(users), "--name", "lisi").returncode == 0
    listed = _cli("list", "--file", str(users))
    assert listed.returncode == 0 and "lisi" not in listed.stdout and "scrypt" not in listed.stdout

    # A unit account needs its unit; a short password is refused; nothing is written then.
    before = users.read_bytes()
    assert _cli("add-user", "--file", str(users), "--name", "x", "--role", "unit", "--password-stdin",
                stdin="long-enough\n").returncode != 0
    assert _cli("add-user", "--file", str(users), "--name", "x", "--role", "bureau", "--password-stdin",
                stdin="short\n").returncode != 0
    assert _cli("add-user", "--file", str(users), "--name", "x\ny", "--role", "bureau", "--password-stdin",
                stdin="long-enough\n").returncode != 0
    assert users.read_bytes() == before


@pytest.mark.parametrize("text, complaint", [
    ('[[user]]\nname = "a"\nrole = "admin"\n', "role"),
    ('[[user]]\nname = "a"\nrole = "unit"\n', "unit"),
    ('[[user]]\nname = "a"\nrole = "bureau"\nunit = "某局"\n', "unit"),
    ('[[user]]\nname = "a"\nrole = "bureau"\n[[user]]\nname = "a"\nrole = "bureau"\n', "两次"),
    ('[[user]\nname = "a"', "TOML"),
])
def test_a_faulty_users_file_is_refused_with_the_reason(text, complaint):
    with pytest.raises(auth.AuthConfigError, match=complaint):
        auth.parse_users(text)


def test_the_proxy_header_maps_a_known_name_to_its_role(tmp_path):
    accounts = auth.parse_users('[[user]]\nname = "wang"\nrole = "unit"\nunit = "遂溪县财政局"\n'
                                '[[user]]\nname = "zhao"\nrole = "bureau"\n')
    assert auth.viewer_from_header({"x-remote-user": "wang"}, "X-Remote-User", accounts) == \
        auth.Viewer("wang", "unit", "遂溪县财政局")
    assert auth.viewer_from_header({"X-Remote-User": " zhao "}, "X-Remote-User", accounts).sees_everything
    assert auth.viewer_from_header({"X-Remote-User": "stranger"}, "X-Remote-User", accounts) is None
    assert auth.viewer_from_header({"X-Other": "zhao"}, "X-Remote-User", accounts) is None
    assert auth.viewer_from_header({"X-Remote-User": ""}, "X-Remote-User", accounts) is None


def test_repeated_wrong_passwords_lock_the_name_for_a_while():
    now = [1000.0]
    throttle = auth.LoginThrottle(max_failures=3, lockout_seconds=60, clock=lambda: now[0])
    for _ in range(3):
        assert not throttle.locked("wang")
        throttle.failed("wang")
    assert throttle.locked("wang") and not throttle.locked("zhao")
    now[0] += 61
    assert not throttle.locked("wang")
    throttle.failed("wang")
    throttle.succeeded("wang")
    assert not throttle._failures.get("wang")


def test_wrong_passwords_from_one_address_do_not_lock_the_account_for_others(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(auth, "THROTTLE", auth.LoginThrottle(max_failures=5, lockout_seconds=900,
                                                             clock=lambda: now[0]))
    monkeypatch.setattr(auth, "ADDRESS_THROTTLE", auth.LoginThrottle(max_failures=20, lockout_seconds=900,
                                                                     clock=lambda: now[0]))
    for _ in range(5):
        auth.login_failed("zhao", "10.0.0.66")
    assert auth.login_locked("zhao", "10.0.0.66")
    assert not auth.login_locked("zhao", "10.0.0.5")  # the bureau's own officer still signs in
    for number in range(15):  # one address trying many names is stopped as a whole
        auth.login_failed(f"name{number}", "10.0.0.66")
    assert auth.login_locked("somebody", "10.0.0.66") and not auth.login_locked("somebody", "10.0.0.5")
    now[0] += 901
    assert not auth.login_locked("zhao", "10.0.0.66")


def test_header_mode_is_refused_unless_only_the_proxy_can_reach_the_port(monkeypatch):
    monkeypatch.delenv("PERF_TRUSTED_PROXY", raising=False)
    assert auth.header_mode_refusal("127.0.0.1", "127.0.0.1") is None
    assert "127.0.0.1" in auth.header_mode_refusal("0.0.0.0", "10.1.2.3")
    assert auth.header_mode_refusal(None, "10.1.2.3") is not None  # Streamlit's default: every address
    monkeypatch.setenv("PERF_TRUSTED_PROXY", "10.0.0.2, 10.0.0.3")
    assert auth.header_mode_refusal("0.0.0.0", "10.0.0.3") is None
    assert "10.1.2.3" in auth.header_mode_refusal("0.0.0.0", "10.1.2.3")


def test_a_session_token_is_signed_expires_and_can_be_revoked(tmp_path, monkeypatch):
    monkeypatch.setenv("PERF_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.delenv("PERF_SESSION_SECRET", raising=False)
    accounts = {"wang": auth.Account("wang", "unit", "某局", None), "zhao": auth.Account("zhao", "bureau")}
    token = auth.issue_session("wang", now=1_000_000)
    assert (tmp_path / "session.key").stat().st_mode & 0o777 == 0o600
    assert auth.session_viewer(token, accounts, now=1_000_000 + 3600) == accounts["wang"].viewer()
    assert auth.session_viewer(token, accounts, now=1_000_000 + 9 * 3600) is None  # expired (8 h)
    body, signature = token.split(".")
    forged = auth._b64(auth._unb64(body).replace(b'"wang"', b'"zhao"')) + "." + signature
    assert auth.session_viewer(forged, accounts, now=1_000_000) is None
    monkeypatch.setenv("PERF_SESSION_SECRET", "another server's secret")
    assert auth.session_viewer(token, accounts, now=1_000_000) is None
    monkeypatch.delenv("PERF_SESSION_SECRET")
    fresh = auth.issue_session("wang")
    assert auth.session_viewer(fresh, accounts) is not None
    auth.revoke_session(fresh)
    assert auth.session_viewer(fresh, accounts) is None
    assert auth.session_viewer(auth.issue_session("gone"), accounts) is None  # account removed


def test_the_revoked_list_keeps_only_sessions_that_have_not_expired(tmp_path, monkeypatch):
    monkeypatch.setenv("PERF_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.delenv("PERF_SESSION_SECRET", raising=False)
    accounts = {"wang": auth.Account("wang", "bureau")}
    hour = 3600
    early = auth.issue_session("wang", now=1_000_000)
    auth.revoke_session(early, now=1_000_000 + hour)
    later = auth.issue_session("wang", now=1_000_000 + 5 * hour)
    auth.revoke_session(later, now=1_000_000 + 6 * hour)
    listed = (tmp_path / auth.REVOKED_NAME).read_text(encoding="ascii").split()
    assert len(auth.revoked_sessions()) == 2 and len(listed) == 4  # both still unexpired: both kept
    third = auth.issue_session("wang", now=1_000_000 + 10 * hour)
    auth.revoke_session(third, now=1_000_000 + 10 * hour)  # the first has expired by now (8 h)
    assert len(auth.revoked_sessions()) == 2
    assert auth.session_viewer(early, accounts, now=1_000_000 + 10 * hour) is None  # expired: still refused
    assert auth.session_viewer(later, accounts, now=1_000_000 + 10 * hour) is None  # revoked: still refused
    assert (tmp_path / auth.REVOKED_NAME).stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_settings_fail_closed(monkeypatch, tmp_path):
    monkeypatch.delenv("PERF_AUTH", raising=False)
    assert auth.auth_mode() == "none"
    monkeypatch.setenv("PERF_AUTH", "off")  # a typo must not mean "no login"
    with pytest.raises(auth.AuthConfigError):
        auth.auth_mode()
    monkeypatch.setenv("PERF_DB", str(tmp_path / "w" / "performance.duckdb"))
    monkeypatch.delenv("PERF_AUDIT_LOG", raising=False)
    assert auth.audit_log_path() == tmp_path / "w" / "downloads.jsonl"


# --- scoping in the data layer ----------------------------------------------------------


def _public_functions() -> dict:
    return {name: function for name, function in inspect.getmembers(data, inspect.isfunction)
            if function.__module__ == data.__name__ and not name.startswith("_")}


# Public functions that read no rows of the warehouse.
NOT_READERS = {"warehouse_path", "file_signature", "scope_of", "build_identity", "reading_as"}


def _warehouse_tables(db: Path) -> list[str]:
    return [t for (t,) in _fetch(db, "SELECT table_name FROM duckdb_tables() ORDER BY table_name")]


def _calls(name: str, function, db: Path, own: str, other: str):
    """Every way of calling a reader worth trying: each year, own and other unit, each table."""
    parameters = [p for p in inspect.signature(function).parameters.values() if p.name != "viewer"]
    assert "viewer" in inspect.signature(function).parameters, f"data.{name} takes no viewer"
    years = [y for (y,) in _fetch(db, "SELECT DISTINCT year FROM submission_status ORDER BY year")]
    choices = {
        "year": years + [None],
        "unit_name": [own, other],
        "sql": [f"SELECT * FROM {table}" for table in _warehouse_tables(db)],
        "params": [()],
        "path": [db],
        "code": ["A3", None],
    }
    argument_sets = [{}]
    for parameter in parameters:
        if parameter.name not in choices:
            raise AssertionError(f"data.{name}: no test values for parameter {parameter.name!r}; add them here")
        values = [v for v in choices[parameter.name]
                  if v is not None or parameter.default is None]
        argument_sets = [{**arguments, parameter.name: value} for arguments in argument_sets for value in values]
    return argument_sets


def _own_files(db: Path, own: str) -> set[str]:
    return {f for (f,) in _fetch(db, """
        SELECT file FROM ingest_files WHERE unit_name = ? UNION SELECT file FROM findings WHERE unit_name = ?
        UNION SELECT file FROM unit_scores WHERE unit_name = ? UNION SELECT file FROM report_figures
        WHERE unit_name = ?""", own, own, own, own)}


def _other_units_in(result, db: Path, own: str, own_files: set[str]) -> list:
    """What in a reader's result belongs to a unit other than own (empty when nothing does)."""
    if isinstance(result, pd.DataFrame):
        leaks = []
        if "unit_name" in result:
            leaks += [n for n in result["unit_name"].dropna().unique() if n != own]
        if "file" in result:
            leaks += [f for f in result["file"].dropna().unique() if f not in own_files]
        return leaks
    if isinstance(result, dict) and "county" in result:  # county_profile: aggregates, no row, no name
        names = {n for (n,) in _fetch(db, "SELECT unit_name FROM unit_scores UNION SELECT unit_name FROM units")}
        text = repr(result)
        assert all(isinstance(v, (int, float, type(None))) for k, part in result.items() if k != "grades"
                   for v in part.values())
        return [n for n in names if n != own and n in text]
    if isinstance(result, dict):  # build_info: the build, not a unit
        assert set(result) == {"build_id", "built_at", "raw_dir", "years", "files"}
        return []
    if isinstance(result, list):
        allowed = {value for row in _fetch(db, """
            SELECT year, unit_type, department FROM unit_scores WHERE unit_name = ?
            UNION SELECT year, NULL, NULL FROM submission_status WHERE unit_name = ?
            UNION SELECT NULL, unit_type, department FROM units WHERE unit_name = ?""", own, own, own)
            for value in row}
        return [value for value in result if value not in allowed]
    raise AssertionError(f"unexpected result type {type(result)}")


def test_a_unit_viewer_never_gets_another_units_rows_from_any_public_function(warehouse, units):
    own, other = units
    viewer = auth.Viewer("unit-user", "unit", own)
    own_files = _own_files(warehouse, own)
    readers = {name: f for name, f in _public_functions().items() if name not in NOT_READERS}
    assert {"query", "read_query", "unit_scores", "findings", "ingest_files", "submission_status"} <= set(readers)
    seen_own_rows = 0
    for name, function in readers.items():
        for arguments in _calls(name, function, warehouse, own, other):
            result = function(**arguments, viewer=viewer)
            assert _other_units_in(result, warehouse, own, own_files) == [], (name, arguments)
            if isinstance(result, pd.DataFrame) and "unit_name" in result:
                seen_own_rows += int((result["unit_name"] == own).sum())
            if arguments.get("unit_name") == other and isinstance(result, pd.DataFrame):
                assert result.empty, (name, arguments)
    assert seen_own_rows > 0


def test_the_same_calls_as_bureau_see_every_unit(warehouse, units):
    """The check above can fail: a bureau viewer gets other units through the same functions."""
    own, other = units
    bureau = auth.Viewer("bureau-user", "bureau")
    own_files = _own_files(warehouse, own)
    (count,), = _fetch(warehouse, "SELECT count(DISTINCT unit_name) FROM unit_scores WHERE year = ?", YEAR)
    assert data.unit_scores(YEAR, viewer=bureau)["unit_name"].nunique() == count > 1
    assert _other_units_in(data.findings(YEAR, viewer=bureau), warehouse, own, own_files)
    assert _other_units_in(data.unit_types(viewer=bureau), warehouse, own, own_files) or \
        _other_units_in(data.departments(viewer=bureau), warehouse, own, own_files)
    assert not data.unit_history(other, viewer=bureau).empty


def test_a_unit_viewer_sees_all_of_its_own_rows(warehouse, units):
    own, _ = units
    viewer = auth.Viewer("unit-user", "unit", own)
    for table in ("units", "ingest_files", "findings", "unit_info", "data_lines", "indicator_scores", "unit_scores",
                  "unit_changes", "submission_status", "report_figures", "targets"):
        (expected,), = _fetch(warehouse, f"SELECT count(*) FROM {table} WHERE unit_name = ?", own)
        assert len(data.query(f"SELECT * FROM {table}", viewer=viewer)) >= expected > 0, table
    assert len(data.query("SELECT * FROM build_info", viewer=viewer)) == 1
    assert data.build_info(viewer=viewer)["build_id"] == data.build_info()["build_id"]


def test_every_warehouse_table_has_a_deliberate_unit_rule():
    contract = re.findall(r"CREATE TABLE (\w+)", (ROOT / "pipeline" / "publishing" / "warehouse.sql").read_text(encoding="utf-8"))
    assert set(contract) == set(data.UNIT_SCOPE)


def test_a_table_without_a_rule_is_empty_for_a_unit(tmp_path, monkeypatch):
    monkeypatch.delenv("PERF_AUTH", raising=False)
    db = tmp_path / "extra.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE units (unit_name VARCHAR); INSERT INTO units VALUES ('甲'), ('乙')")
        con.execute("CREATE TABLE notes (unit_name VARCHAR, note VARCHAR); INSERT INTO notes VALUES ('甲', 'x'), "
                    "('乙', 'y')")
    viewer = auth.Viewer("u", "unit", "甲")
    assert list(data.read_query(db, "SELECT unit_name FROM units", viewer=viewer)["unit_name"]) == ["甲"]
    assert data.read_query(db, "SELECT * FROM notes", viewer=viewer).empty
    assert len(data.read_query(db, "SELECT * FROM notes")) == 2


def test_a_unit_query_cannot_reach_the_file_or_anything_else(warehouse, units):
    own, _ = units
    viewer = auth.Viewer("unit-user", "unit", own)
    databases = set(data.query("SELECT database_name FROM duckdb_databases()", viewer=viewer)["database_name"])
    assert str(warehouse) not in databases and "published" not in databases
    for attempt in (f"SELECT * FROM read_csv('{ROOT / 'raw' / 'units.csv'}')",
                    f"ATTACH '{warehouse}' AS again (READ_ONLY)",
                    "SET enable_external_access = true",
                    "SELECT * FROM published.main.unit_scores"):
        with pytest.raises((data.WarehouseUnavailable, duckdb.Error)):
            data.query(attempt, viewer=viewer)


def test_a_hostile_unit_name_is_a_parameter(warehouse):
    viewer = auth.Viewer("u", "unit", "某局'; DROP TABLE units; --")
    assert data.unit_scores(YEAR, viewer=viewer).empty
    assert data.years(viewer=viewer) == []
    assert len(data.query("SELECT * FROM units")) > 0


def test_without_a_signed_in_viewer_nothing_is_read(warehouse, monkeypatch):
    monkeypatch.setenv("PERF_AUTH", "users")
    with pytest.raises(auth.NotSignedIn):
        data.unit_scores(YEAR)
    with pytest.raises(auth.NotSignedIn):
        data.read_query(warehouse, "SELECT * FROM units")
    for nobody in (auth.Viewer("x", "unit", None), auth.Viewer("x", "admin", None)):
        with pytest.raises(auth.NotSignedIn):
            data.unit_scores(YEAR, viewer=nobody)
    monkeypatch.setenv("PERF_AUTH", "user")
    with pytest.raises(auth.AuthConfigError):
        data.unit_scores(YEAR)


# --- the audit log ----------------------------------------------------------------------


def _audited(log: Path, content=lambda: b"a,b\n1,2\n", **overrides):
    arguments = dict(viewer=auth.Viewer("王五", "unit", "遂溪县财政局"), page="排名", table="单位排名",
                     file_name="单位排名_2024.csv", rows=1, filters_shown=[("评价年度", "2024"), ("单位类型", "全部")],
                     build_id="abc", address="10.0.0.7", log_path=log)
    return ui.audited_download(content, **{**arguments, **overrides})


def test_a_download_is_recorded_when_taken_and_the_log_only_grows(tmp_path):
    log = tmp_path / "audit" / "downloads.jsonl"
    deliver = _audited(log)
    assert not log.exists()  # showing the button records nothing
    assert deliver() == b"a,b\n1,2\n"
    first = log.read_bytes()
    (record,) = auth.read_audit(log)
    assert record["event"] == "download"
    assert (record["user"], record["role"], record["unit"]) == ("王五", "unit", "遂溪县财政局")
    assert (record["page"], record["table"], record["format"], record["rows"]) == ("排名", "单位排名", "csv", 1)
    assert record["filters"] == {"评价年度": "2024", "单位类型": "全部"}
    assert record["build_id"] == "abc" and record["address"] == "10.0.0.7"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", record["time"])
    _audited(log, file_name="单位排名_2024.xlsx", rows=3)()
    assert log.read_bytes().startswith(first)
    assert [r["format"] for r in auth.read_audit(log)] == ["csv", "xlsx"]


def test_no_file_is_handed_over_when_the_download_cannot_be_recorded(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(OSError):
        _audited(blocker / "downloads.jsonl")()
    log = tmp_path / "downloads.jsonl"

    def failing() -> bytes:
        raise RuntimeError("build failed")

    with pytest.raises(RuntimeError):
        _audited(log, content=failing)()
    assert not log.exists()  # nothing was taken, nothing recorded


# --- the app with login -----------------------------------------------------------------


@pytest.fixture
def users_file(tmp_path, units) -> Path:
    own, _ = units
    path = tmp_path / "users.toml"
    auth.write_users(path, {
        "zhao": auth.Account("zhao", "bureau", None, auth.hash_password(BUREAU_PASSWORD)),
        "wang": auth.Account("wang", "unit", own, auth.hash_password(UNIT_PASSWORD)),
    })
    return path


@pytest.fixture
def login_app(warehouse, users_file, monkeypatch) -> AppTest:
    monkeypatch.setenv("PERF_AUTH", "users")
    monkeypatch.setenv("PERF_USERS_FILE", str(users_file))
    return AppTest.from_file(str(APP), default_timeout=TIMEOUT)


def _sign_in(app: AppTest, name: str, password: str) -> AppTest:
    app.text_input(key="login_name").input(name)
    app.text_input(key="login_password").input(password)
    app.button[0].click().run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _ranking(app: AppTest) -> pd.DataFrame:
    app.switch_page("views/ranking.py").run()
    assert not app.exception, [e.value for e in app.exception]
    from tests.test_dashboard_app import unit_of_link

    frame = next(e.value for e in app.dataframe if list(e.value.columns[:2]) == ["排名", "单位名称"])
    return frame.assign(单位名称=frame["单位名称"].map(unit_of_link))


def test_with_login_required_nothing_shows_before_signing_in(login_app):
    app = login_app
    app.query_params["year"] = str(YEAR)
    app.run()
    assert not app.exception
    assert [t.label for t in app.text_input] == ["用户名", "密码"]
    assert not app.dataframe and not app.table and not app.metric and not app.sidebar.selectbox
    _sign_in(app, "wang", "wrong password")
    assert any("不正确" in e.value for e in app.error)
    assert not app.dataframe and not app.table
    (failure,) = auth.read_audit()
    assert (failure["event"], failure["user"]) == ("login_failed", "wang")


def test_a_unit_account_sees_only_its_unit_and_no_county_materials(login_app, units):
    own, _ = units
    app = login_app
    app.query_params["year"] = str(YEAR)
    app.run()
    _sign_in(app, "wang", UNIT_PASSWORD)
    assert any("当前用户：wang" in c.value for c in app.sidebar.caption)
    ranking = _ranking(app)
    assert list(ranking["单位名称"]) == [own]
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not registered for a unit
        app.switch_page("views/exports.py")
    assert [r["event"] for r in auth.read_audit()] == ["login"]


def test_a_bureau_account_sees_every_unit(login_app, sample_warehouse):
    app = login_app
    app.query_params["year"] = str(YEAR)
    app.run()
    _sign_in(app, "zhao", BUREAU_PASSWORD)
    (count,), = _fetch(sample_warehouse, "SELECT count(*) FROM unit_scores WHERE year = ?", YEAR)
    assert len(_ranking(app)) == count


def test_removing_an_account_ends_its_session(login_app, users_file):
    app = login_app
    app.run()
    _sign_in(app, "wang", UNIT_PASSWORD)
    assert app.table  # the unit's figures beside the county's
    accounts = auth.read_users(users_file)
    del accounts["wang"]
    auth.write_users(users_file, accounts)
    app.run()
    assert [t.label for t in app.text_input] == ["用户名", "密码"]
    assert not app.dataframe and not app.table


def test_header_mode_without_the_header_shows_nothing(warehouse, users_file, monkeypatch):
    monkeypatch.setattr(auth, "listen_address", lambda: "127.0.0.1")
    monkeypatch.setenv("PERF_AUTH", "header")
    monkeypatch.setenv("PERF_USERS_FILE", str(users_file))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not app.exception
    assert any("无法确认您的身份" in e.value for e in app.error)
    assert not app.dataframe and not app.table and not app.metric


def test_a_missing_users_file_shows_nothing(warehouse, tmp_path, monkeypatch):
    monkeypatch.setenv("PERF_AUTH", "users")
    monkeypatch.setenv("PERF_USERS_FILE", str(tmp_path / "absent.toml"))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not app.exception
    assert any("用户文件不存在" in e.value for e in app.error)
    assert not app.dataframe and not app.table and not app.text_input


# --- in a real browser --------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium is not installed")
def test_in_the_browser_a_unit_signs_in_and_its_download_is_recorded(sample_warehouse, users_file, units, tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.test_browser import _RENDERED

    own, _ = units
    log = tmp_path / "browser-audit.jsonl"
    base, server = dashboard_server.start({"PERF_DB": str(sample_warehouse), "PERF_AUTH": "users",
                           "PERF_USERS_FILE": str(users_file), "PERF_AUDIT_LOG": str(log)})
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                                  args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            try:
                page = chromium.new_context(viewport={"width": 1440, "height": 1200}, locale="zh-CN",
                                            accept_downloads=True).new_page()
                # A colleague's link to 排名: the login form comes first, no data behind it.
                page.goto(f"{base}/ranking?{urllib.parse.urlencode({'year': YEAR})}", wait_until="domcontentloaded")
                page.get_by_label("用户名").wait_for(timeout=30_000)
                assert page.locator('[data-testid="stDataFrame"]').count() == 0
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "login.png"))
                page.get_by_label("用户名").fill("wang")
                page.get_by_label("密码").fill(UNIT_PASSWORD)
                page.get_by_role("button", name="登录").click()
                # Signed in, the link's page opens with the link's year.
                page.get_by_role("heading", name=f"排名 · {YEAR} 年度").first.wait_for(timeout=30_000)
                page.wait_for_function(_RENDERED, timeout=30_000)
                page.wait_for_timeout(500)
                page.screenshot(path=str(ARTIFACTS / "ranking_unit_account.png"), full_page=True)
                with page.expect_download(timeout=30_000) as download_info:
                    page.get_by_role("button", name="下载 CSV").first.click()
                content = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
            finally:
                chromium.close()
    finally:
        dashboard_server.stop(server)
    header, *rows = list(csv_module.reader(io.StringIO(content)))
    assert [row[header.index("单位名称")] for row in rows] == [own]
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    # the click, then the browser's fetch of the file (Chromium may fetch it more than once; each is logged)
    events = [r["event"] for r in records]
    assert events[:3] == ["login", "download", "download_fetch"] and set(events[3:]) <= {"download_fetch"}
    download = records[1]
    assert (download["user"], download["unit"], download["table"], download["format"], download["rows"]) == \
        ("wang", own, "单位排名", "csv", 1)
    assert download["page"] == "排名" and download["filters"]["评价年度"] == str(YEAR)


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium is not installed")
def test_in_the_browser_the_proxys_header_decides_who_is_looking(sample_warehouse, users_file, units, tmp_path):
    """As behind nginx: the header arrives with every request, the websocket's included."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import _RENDERED

    own, _ = units
    base, server = dashboard_server.start({"PERF_DB": str(sample_warehouse), "PERF_AUTH": "header",
                           "PERF_USERS_FILE": str(users_file), "PERF_AUDIT_LOG": str(tmp_path / "audit.jsonl")})
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                                  args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            try:
                shown = {}
                for user, waits_for in (("wang", f"排名 · {YEAR} 年度"), ("stranger", "无法确认您的身份")):
                    page = chromium.new_context(locale="zh-CN", extra_http_headers={"X-Remote-User": user}).new_page()
                    page.goto(f"{base}/ranking?year={YEAR}", wait_until="domcontentloaded")
                    page.get_by_text(waits_for).first.wait_for(timeout=30_000)
                    page.wait_for_function(_RENDERED, timeout=30_000)
                    shown[user] = page.content()
            finally:
                chromium.close()
    finally:
        dashboard_server.stop(server)
    assert f"排名 · {YEAR} 年度" in shown["wang"] and own in shown["wang"] and "当前用户：wang" in shown["wang"]
    assert "无法确认您的身份" in shown["stranger"] and own not in shown["stranger"]


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium is not installed")
def test_in_the_browser_sign_in_survives_a_refresh_and_downloads_need_it(sample_warehouse, users_file, units,
                                                                          tmp_path):
    """The session cookie keeps a refresh and a new tab signed in; a download's address answers only
    to it, every fetch is logged, and signing out ends both."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import _RENDERED

    own, _ = units
    log = tmp_path / "audit.jsonl"
    base, server = dashboard_server.start({"PERF_DB": str(sample_warehouse), "PERF_AUTH": "users",
                                           "PERF_USERS_FILE": str(users_file), "PERF_AUDIT_LOG": str(log)})
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                                  args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            try:
                context = chromium.new_context(viewport={"width": 1440, "height": 1200}, locale="zh-CN",
                                               accept_downloads=True)
                page = context.new_page()
                page.goto(f"{base}/ranking?year={YEAR}", wait_until="domcontentloaded")
                page.get_by_label("用户名").fill("wang")
                page.get_by_label("密码").fill(UNIT_PASSWORD)
                page.get_by_role("button", name="登录").click()
                page.get_by_role("heading", name=f"排名 · {YEAR} 年度").first.wait_for(timeout=30_000)
                page.wait_for_function(_RENDERED, timeout=30_000)
                cookie = next(c for c in context.cookies() if c["name"] == auth.SESSION_COOKIE)
                assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

                page.reload(wait_until="domcontentloaded")
                page.get_by_role("heading", name=f"排名 · {YEAR} 年度").first.wait_for(timeout=30_000)
                other = context.new_page()  # a link opened in a new tab
                other.goto(f"{base}/unit?year={YEAR}&unit={urllib.parse.quote(own)}", wait_until="domcontentloaded")
                other.get_by_role("heading", name=f"单位详情 · {YEAR} 年度").first.wait_for(timeout=30_000)
                other.get_by_role("heading", name=own).first.wait_for(timeout=30_000)
                # the county's materials: said to be the bureau's, not replaced by another page
                other.goto(f"{base}/exports?year={YEAR}", wait_until="domcontentloaded")
                other.get_by_text("只提供给财政局账户").first.wait_for(timeout=30_000)
                other.close()
                page.wait_for_function(_RENDERED, timeout=30_000)
                page.wait_for_timeout(500)

                with page.expect_download(timeout=30_000) as download_info:
                    page.get_by_role("button", name="下载 CSV").first.click()
                url = download_info.value.url
                assert "/media/" in url
                before = auth.read_audit(log)
                assert [r["event"] for r in before].count("download_fetch") >= 1
                again = context.request.get(url)  # the same browser, a second fetch: served and logged
                assert again.status == 200 and own in again.text()
                # read from the record on, as a busy browser may fetch its own download once more meanwhile
                path = urllib.parse.urlsplit(url).path
                assert any(r["event"] == "download_fetch" and r.get("path") == path
                           for r in auth.read_audit(log)[len(before):])
                stranger = playwright.request.new_context()  # no session
                refused = stranger.get(url)
                assert refused.status == 403 and own not in refused.text()

                page.get_by_role("button", name="退出登录").click()
                page.get_by_label("用户名").wait_for(timeout=30_000)
                assert context.request.get(url).status == 403  # the cookie was revoked with the sign-out
                page.reload(wait_until="domcontentloaded")
                page.get_by_label("用户名").wait_for(timeout=30_000)
            finally:
                chromium.close()
    finally:
        dashboard_server.stop(server)
    events = [r["event"] for r in auth.read_audit(log)]
    assert events.count("download_refused") == 2
    assert "logout" in events
    fetches = [r for r in auth.read_audit(log) if r["event"] == "download_fetch"]
    assert {r["user"] for r in fetches} == {"wang"} and all(r["address"] for r in fetches)


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium is not installed")
def test_header_mode_on_every_address_without_a_trusted_proxy_is_refused(sample_warehouse, users_file, tmp_path):
    from playwright.sync_api import sync_playwright

    base, server = dashboard_server.start({"PERF_DB": str(sample_warehouse), "PERF_AUTH": "header",
                                           "PERF_USERS_FILE": str(users_file),
                                           "PERF_AUDIT_LOG": str(tmp_path / "audit.jsonl")}, address="0.0.0.0")
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                                  args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            try:
                page = chromium.new_context(locale="zh-CN", extra_http_headers={"X-Remote-User": "zhao"}).new_page()
                page.goto(f"{base}/ranking?year={YEAR}", wait_until="domcontentloaded")
                page.get_by_text("访问设置不安全").first.wait_for(timeout=30_000)
                content = page.content()
            finally:
                chromium.close()
    finally:
        dashboard_server.stop(server)
    assert "PERF_TRUSTED_PROXY" in content and "单位排名" not in content


# --- what a unit account is told -------------------------------------------------------


def _unit_app(monkeypatch, tmp_path, unit: str) -> AppTest:
    path = tmp_path / "unit-users.toml"
    auth.write_users(path, {"li": auth.Account("li", "unit", unit, auth.hash_password(UNIT_PASSWORD))})
    monkeypatch.setenv("PERF_AUTH", "users")
    monkeypatch.setenv("PERF_USERS_FILE", str(path))
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    app.query_params["year"] = str(YEAR)
    app.run()
    return _sign_in(app, "li", UNIT_PASSWORD)


def _said(app: AppTest) -> str:
    return " ".join(e.value for kind in (app.warning, app.error, app.info, app.success) for e in kind)


def test_a_unit_account_sees_its_figures_against_the_county(warehouse, monkeypatch, tmp_path, units):
    own, _ = units
    (rank, score), = _fetch(warehouse, "SELECT rank, review_score FROM unit_scores WHERE unit_name = ? "
                                       "AND year = ?", own, YEAR)
    (count, mean), = _fetch(warehouse, "SELECT count(*), avg(review_score) FROM unit_scores WHERE year = ?", YEAR)
    app = _unit_app(monkeypatch, tmp_path, own)
    assert any(f"本单位：{own}" in h.value for h in app.subheader)
    shown = {m.label: m.value for m in app.metric}
    assert shown["全县排名"] == f"第 {rank} 名"
    assert any(f"共 {count} 个已入库单位" in c.value for c in app.caption)
    assert shown["全县平均复核得分"] == f"{mean:.2f} 分"
    profile = next(e.value for e in app.table if "全县平均" in e.value.columns)
    review = profile[profile["项目"] == "复核得分"].iloc[0]
    assert review["本单位"] == pytest.approx(round(score, 2)) and review["参与单位数"] == count
    assert "全县汇总（1 个已入库单位）" not in " ".join(h.value for h in app.subheader)


def test_a_quarantined_unit_account_is_told_why_its_file_was_not_used(warehouse, monkeypatch, tmp_path):
    (unit, reason), = _fetch(warehouse, "SELECT unit_name, reason FROM ingest_files WHERE year = ? AND "
                                        "state = 'quarantined' AND kind = 'workbook' AND unit_name IS NOT NULL "
                                        "ORDER BY unit_name LIMIT 1", YEAR)
    app = _unit_app(monkeypatch, tmp_path, unit)
    said = _said(app)
    assert "已被隔离" in said and "当前筛选条件下没有数据" not in said
    assert reason in " ".join(m.value for m in app.markdown)
    app.switch_page("views/ranking.py").run()
    assert "已被隔离" in _said(app) and "当前筛选条件下没有数据" not in _said(app)

