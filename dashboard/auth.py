"""Who is looking at the dashboard and what they may see: the dashboard's access settings, in one place.

Settings (environment variables; `make dashboard` passes the environment through):

    PERF_AUTH         none (default) | users | header
                      none   — a single-user machine: no login, everything visible;
                      users  — a login form; names and scrypt password hashes in the users file;
                      header — a reverse proxy has authenticated the person and names them in
                               PERF_AUTH_HEADER; the users file maps the name to a role (no passwords).
    PERF_USERS_FILE   the users file (TOML), default users.toml in the project folder
    PERF_AUTH_HEADER  the trusted header in header mode, default X-Remote-User
    PERF_AUDIT_LOG    the append-only log of downloads and sign-ins (JSON lines),
                      default downloads.jsonl next to the warehouse
    PERF_TRUSTED_PROXY header mode only: the address(es) of the reverse proxy, comma separated.
                      Header mode is refused unless the dashboard listens on 127.0.0.1 only
                      (server.address, `make dashboard` does so by default) or this is set;
                      when set, a request from any other address is refused.
    PERF_SESSION_SECRET users mode: the key that signs session cookies (any long random text);
                      default: a random key kept in session.key beside the audit log (mode 600)
    PERF_SESSION_HOURS users mode: how long a sign-in lasts, default 8 hours

Signing in (users mode) sets a session cookie: the user name, an expiry and a random id,
signed with HMAC-SHA256 under the server's secret, HttpOnly and SameSite=Lax. It lets a
refresh, a new tab or a colleague's link keep the sign-in until it expires; signing out
revokes its id (kept in session.revoked beside the key), so the cookie is worthless even if
copied. The same cookie, or in header mode the proxy's header, is checked on every download
fetch (/media/…) by dashboard.server, which also records each fetch in the audit log.

A bureau account (role bureau) sees every unit; a unit account (role unit) sees only the
rows and files of its own unit: dashboard.data enforces that on every read.

The users file, written by `python -m dashboard.auth add-user`:

    [[user]]
    name = "张三"
    role = "bureau"
    password = "scrypt$16384$8$1$<salt hex>$<hash hex>"

    [[user]]
    name = "czj"
    role = "unit"
    unit = "遂溪县财政局"
    password = "scrypt$…"
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):  # `python dashboard/auth.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline import settings  # noqa: E402

MODE_NONE, MODE_USERS, MODE_HEADER = "none", "users", "header"
MODES = (MODE_NONE, MODE_USERS, MODE_HEADER)
BUREAU, UNIT = "bureau", "unit"
ROLES = (BUREAU, UNIT)
ROLE_LABELS = {BUREAU: "财政局", UNIT: "预算单位"}

DEFAULT_USERS_FILE = settings.PROJECT_ROOT / "users.toml"
DEFAULT_AUTH_HEADER = "X-Remote-User"
AUDIT_LOG_NAME = "downloads.jsonl"

# scrypt at n=2**14, r=8, p=1 costs ~16 MB and ~50 ms per check: cheap for a person signing
# in, expensive for someone trying a word list against a stolen users file.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32
SCHEME = "scrypt"

# After this many wrong passwords for one name from one address, that pair is refused for the
# lockout period; an address is refused after ADDRESS_FAILURES wrong passwords for any names.
# Someone elsewhere guessing at the bureau's account thus locks out only themselves.
MAX_FAILURES = 5
ADDRESS_FAILURES = 20
LOCKOUT_SECONDS = 15 * 60

SESSION_COOKIE = "perf_session"
SESSION_HOURS = 8
SESSION_KEY_NAME = "session.key"
REVOKED_NAME = "session.revoked"
LOOPBACK = ("127.0.0.1", "::1", "localhost")

SESSION_VIEWER = "viewer"
SESSION_TOKEN = "session_token"
PENDING_COOKIE = "session_cookie_pending"
SESSION_ROUTE = "auth/session"   # served by dashboard.server
# True when served by dashboard.server (make dashboard): the cookie route and the download guard
# exist. Without them the sign-in lasts for the page's session only, and the sidebar says so.
SERVED_WITH_GUARD = False
SIGN_OUT_ROUTE = "auth/signout"


class AuthConfigError(Exception):
    """The access settings or the users file are unusable; the dashboard shows nothing."""


class NotSignedIn(Exception):
    """A read was attempted without a known viewer while login is required."""


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str
    unit: str | None = None

    @property
    def sees_everything(self) -> bool:
        return self.role == BUREAU

    @property
    def scope(self) -> str | None:
        """The one unit this viewer is limited to; None for a bureau viewer."""
        return None if self.sees_everything else self.unit

    def label(self) -> str:
        return f"{self.name}（{self.unit}）" if self.unit else f"{self.name}（{ROLE_LABELS[self.role]}）"


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    unit: str | None = None
    password: str | None = field(default=None, repr=False)

    def viewer(self) -> Viewer:
        return Viewer(name=self.name, role=self.role, unit=self.unit)


# --- settings -------------------------------------------------------------------------


def auth_mode() -> str:
    mode = os.environ.get("PERF_AUTH", MODE_NONE).strip().lower() or MODE_NONE
    if mode not in MODES:
        # A typo must not open the dashboard to everyone.
        raise AuthConfigError(f"PERF_AUTH={mode!r} 无效，应为 {' / '.join(MODES)} 之一")
    return mode


def users_file() -> Path:
    return Path(os.environ.get("PERF_USERS_FILE", DEFAULT_USERS_FILE))


def auth_header() -> str:
    return os.environ.get("PERF_AUTH_HEADER", DEFAULT_AUTH_HEADER)


def audit_log_path() -> Path:
    configured = os.environ.get("PERF_AUDIT_LOG")
    return Path(configured) if configured else settings.db_path().with_name(AUDIT_LOG_NAME)


def local_viewer() -> Viewer:
    """The person at a single-user machine (PERF_AUTH=none): sees everything."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "local"
    return Viewer(name=name, role=BUREAU)


# --- passwords ------------------------------------------------------------------------


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=HASH_BYTES, maxmem=64 * 1024 * 1024)
    return f"{SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_hex, digest_hex = stored.split("$")
        n, r, p = int(n), int(r), int(p)
        salt, expected = bytes.fromhex(salt_hex), bytes.fromhex(digest_hex)
    except ValueError:
        return False
    if scheme != SCHEME or not expected or n > 2**20 or r > 32 or p > 16:
        return False
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(expected),
                            maxmem=256 * 1024 * 1024)
    return hmac.compare_digest(digest, expected)


# A hash to check against when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


def authenticate(accounts: Mapping[str, Account], name: str, password: str) -> Viewer | None:
    account = accounts.get(name.strip())
    if account is None or not account.password:
        verify_password(password, _DUMMY_HASH)
        return None
    return account.viewer() if verify_password(password, account.password) else None


class LoginThrottle:
    """Counts wrong passwords per name in this process; refuses a name after MAX_FAILURES."""

    def __init__(self, *, max_failures: int = MAX_FAILURES, lockout_seconds: float = LOCKOUT_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self.max_failures = max_failures
        self.lockout_seconds = lockout_seconds
        self.clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, name: str) -> list[float]:
        cutoff = self.clock() - self.lockout_seconds
        recent = [t for t in self._failures.get(name, []) if t > cutoff]
        self._failures[name] = recent
        return recent

    def locked(self, name: str) -> bool:
        with self._lock:
            return len(self._recent(name)) >= self.max_failures

    def failed(self, name: str) -> None:
        with self._lock:
            self._recent(name).append(self.clock())

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name, None)


THROTTLE = LoginThrottle()                                    # keyed by "name@address"
ADDRESS_THROTTLE = LoginThrottle(max_failures=ADDRESS_FAILURES)  # keyed by address


def throttle_key(name: str, address: str | None) -> str:
    return f"{name}@{address or '?'}"


def login_locked(name: str, address: str | None) -> bool:
    return THROTTLE.locked(throttle_key(name, address)) or ADDRESS_THROTTLE.locked(address or "?")


def login_failed(name: str, address: str | None) -> None:
    THROTTLE.failed(throttle_key(name, address))
    ADDRESS_THROTTLE.failed(address or "?")


def login_succeeded(name: str, address: str | None) -> None:
    THROTTLE.succeeded(throttle_key(name, address))


# --- header mode: who may name the user ------------------------------------------------


def trusted_proxies() -> tuple[str, ...]:
    return tuple(a.strip() for a in os.environ.get("PERF_TRUSTED_PROXY", "").split(",") if a.strip())


def header_mode_refusal(listen_address: str | None, client: str | None) -> str | None:
    """Why a header-mode request must not be believed (None: it may be).

    Anyone who reaches the port can send the header; it is only worth something when the
    only one who can reach the port is the proxy (the dashboard listens on loopback) or
    the request comes from the proxy's configured address.
    """
    proxies = trusted_proxies()
    if proxies:
        if client not in proxies:
            return f"请求来自 {client or '未知地址'}，不是 PERF_TRUSTED_PROXY 中登记的代理地址"
        return None
    if (listen_address or "").strip() not in LOOPBACK:
        return (f"看板监听在 {listen_address or '全部地址'}，任何能访问该端口的人都能伪造用户名请求头。"
                "请让看板只监听 127.0.0.1（make dashboard 的默认做法），或用 PERF_TRUSTED_PROXY 指定代理的地址")
    return None


def listen_address() -> str | None:
    try:
        from streamlit import config

        return config.get_option("server.address")
    except Exception:  # noqa: BLE001 - outside a server nothing listens
        return None


# --- session cookies (users mode) --------------------------------------------------------


def _secret_dir() -> Path:
    return audit_log_path().parent


def session_secret() -> bytes:
    configured = os.environ.get("PERF_SESSION_SECRET")
    if configured:
        return configured.encode("utf-8")
    path = _secret_dir() / SESSION_KEY_NAME
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key.hex())
    return key


def session_hours() -> float:
    try:
        return float(os.environ.get("PERF_SESSION_HOURS", SESSION_HOURS))
    except ValueError:
        return SESSION_HOURS


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_session(name: str, *, now: float | None = None) -> str:
    """A signed token: base64(json{u, exp, id}).base64(hmac)."""
    now = time.time() if now is None else now
    body = _b64(json.dumps({"u": name, "exp": int(now + session_hours() * 3600), "id": secrets.token_hex(12)},
                           ensure_ascii=False).encode("utf-8"))
    signature = _b64(hmac.new(session_secret(), body.encode("ascii"), hashlib.sha256).digest())
    return f"{body}.{signature}"


def _session_claims(token: str | None, *, now: float | None = None) -> dict | None:
    if not token or token.count(".") != 1:
        return None
    body, signature = token.split(".")
    expected = _b64(hmac.new(session_secret(), body.encode("ascii", "replace"), hashlib.sha256).digest())
    if not hmac.compare_digest(signature, expected):
        return None
    try:
        claims = json.loads(_unb64(body))
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        return None
    if claims["exp"] <= (time.time() if now is None else now) or claims.get("id") in revoked_sessions():
        return None
    return claims


def session_viewer(token: str | None, accounts: Mapping[str, Account], *, now: float | None = None) -> Viewer | None:
    """The viewer a session cookie stands for: signed, unexpired, not revoked, account still there."""
    claims = _session_claims(token, now=now)
    if claims is None:
        return None
    account = accounts.get(str(claims.get("u")))
    return account.viewer() if account is not None else None


def revoked_sessions() -> set[str]:
    path = _secret_dir() / REVOKED_NAME
    try:
        return {line.split()[0] for line in path.read_text(encoding="ascii").splitlines() if line.strip()}
    except FileNotFoundError:
        return set()


def revoke_session(token: str | None, *, now: float | None = None) -> None:
    """Sign-out: the token's id is written down, and the token is refused from then on.

    Ids of tokens that have expired since are dropped at the same time: an expired token is
    refused anyway, so the list holds only the sessions signed out within the last 8 hours."""
    claims = _session_claims(token, now=now)
    if claims is None:
        return
    now = time.time() if now is None else now
    path = _secret_dir() / REVOKED_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with _AUDIT_LOCK:
        try:
            lines = path.read_text(encoding="ascii").splitlines()
        except FileNotFoundError:
            lines = []
        kept = [line for line in lines if _unexpired_line(line, now)] + [f"{claims['id']} {claims['exp']}"]
        # written beside and renamed over, so a reader sees the old list or the new one, never half
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, "".join(f"{line}\n" for line in kept).encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(partial, path)


def _unexpired_line(line: str, now: float) -> bool:
    """A line of the revoked list ("<id> <exp>") whose token has not expired; a line that cannot be read is kept."""
    parts = line.split()
    if not parts:
        return False
    try:
        return int(parts[1]) > now
    except (IndexError, ValueError):
        return True


# One-time codes that turn into the session cookie (dashboard.server's /auth/session):
# the script cannot set a cookie, the browser fetches it with the code right after signing in.
_CLAIMS: dict[str, tuple[str, float]] = {}
_CLAIMS_LOCK = threading.Lock()
CLAIM_SECONDS = 60


def claim_code(token: str) -> str:
    code = secrets.token_urlsafe(24)
    with _CLAIMS_LOCK:
        now = time.monotonic()
        for stale in [c for c, (_, t) in _CLAIMS.items() if t < now]:
            _CLAIMS.pop(stale, None)
        _CLAIMS[code] = (token, now + CLAIM_SECONDS)
    return code


def redeem_claim(code: str) -> str | None:
    with _CLAIMS_LOCK:
        token, until = _CLAIMS.pop(code, (None, 0.0))
    return token if token is not None and until >= time.monotonic() else None


def request_viewer(*, mode: str, cookies: Mapping[str, str], headers: Mapping[str, str],
                   client: str | None, listen: str | None) -> Viewer | None:
    """Who sends an HTTP request (a download fetch), by the same rules as the page."""
    if mode == MODE_NONE:
        return local_viewer()
    accounts = current_accounts()
    if mode == MODE_HEADER:
        if header_mode_refusal(listen, client) is not None:
            return None
        return viewer_from_header(headers, auth_header(), accounts)
    return session_viewer(cookies.get(SESSION_COOKIE), accounts)


# --- the users file -------------------------------------------------------------------


def parse_users(text: str, *, source: str = "users.toml") -> dict[str, Account]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise AuthConfigError(f"{source} 不是有效的 TOML：{error}") from error
    entries = document.get("user", [])
    if not isinstance(entries, list):
        raise AuthConfigError(f"{source}：用户应写成 [[user]] 表")
    accounts: dict[str, Account] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise AuthConfigError(f"{source} 第 {number} 个用户不是表")
        name = str(entry.get("name", "")).strip()
        role = entry.get("role")
        unit = entry.get("unit")
        password = entry.get("password")
        if not name:
            raise AuthConfigError(f"{source} 第 {number} 个用户没有 name")
        if name in accounts:
            raise AuthConfigError(f"{source}：用户 {name} 出现了两次")
        if role not in ROLES:
            raise AuthConfigError(f"{source}：用户 {name} 的 role 应为 {' / '.join(ROLES)}")
        if role == UNIT and not (isinstance(unit, str) and unit.strip()):
            raise AuthConfigError(f"{source}：单位用户 {name} 缺少 unit（单位名称）")
        if role == BUREAU and unit:
            raise AuthConfigError(f"{source}：财政局用户 {name} 不应有 unit")
        if password is not None and not isinstance(password, str):
            raise AuthConfigError(f"{source}：用户 {name} 的 password 应为字符串")
        accounts[name] = Account(name=name, role=role, unit=unit.strip() if role == UNIT else None,
                                 password=password or None)
    return accounts


def read_users(path: Path) -> dict[str, Account]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise AuthConfigError(f"用户文件不存在：{path}（用 python -m dashboard.auth add-user 创建）") from error
    except OSError as error:
        raise AuthConfigError(f"用户文件无法读取：{path}：{error}") from error
    return parse_users(text, source=str(path))


def _toml_string(value: str) -> str:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise ValueError("名称中不能有控制字符（如换行）")
    # A JSON string of printable text is a valid TOML basic string.
    return json.dumps(value, ensure_ascii=False)


def format_users(accounts: Mapping[str, Account]) -> str:
    blocks = ["# 看板用户（python -m dashboard.auth 维护）。password 是 scrypt 哈希，不是密码本身。\n"]
    for account in accounts.values():
        lines = ["[[user]]", f"name = {_toml_string(account.name)}", f"role = {_toml_string(account.role)}"]
        if account.unit:
            lines.append(f"unit = {_toml_string(account.unit)}")
        if account.password:
            lines.append(f"password = {_toml_string(account.password)}")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def write_users(path: Path, accounts: Mapping[str, Account]) -> None:
    """Replace the users file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(format_users(accounts))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)


@dataclass
class _UsersCache:
    key: tuple | None = None
    accounts: dict[str, Account] = field(default_factory=dict)


_USERS_CACHE = _UsersCache()
_USERS_LOCK = threading.Lock()


def current_accounts() -> dict[str, Account]:
    """The users file as it is now (re-read when it changes, so removing a user takes effect at once)."""
    path = users_file()
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return read_users(path)  # raises the explanation
    key = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    with _USERS_LOCK:
        if _USERS_CACHE.key != key:
            _USERS_CACHE.accounts = read_users(path)
            _USERS_CACHE.key = key
        return _USERS_CACHE.accounts


def viewer_from_header(headers: Mapping[str, str], header: str, accounts: Mapping[str, Account]) -> Viewer | None:
    """The viewer named by the proxy's header, if the users file knows the name."""
    wanted = header.lower()
    value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    if not value or not value.strip():
        return None
    account = accounts.get(value.strip())
    return account.viewer() if account else None


# --- the audit log --------------------------------------------------------------------

_AUDIT_LOCK = threading.Lock()


def audit_record(event: str, viewer: Viewer | None, **details) -> dict:
    """One line of the audit log; viewer None for an attempt by someone not (yet) known."""
    who = {"user": viewer.name, "role": viewer.role, "unit": viewer.unit} if viewer else {}
    return {"time": datetime.now().astimezone().isoformat(timespec="seconds"), "event": event, **who, **details}


def append_audit(record: dict, path: Path | None = None) -> None:
    """Append one JSON line; raises when it cannot be written (the download is then refused)."""
    path = audit_log_path() if path is None else path
    line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    with _AUDIT_LOCK:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def read_audit(path: Path | None = None) -> list[dict]:
    path = audit_log_path() if path is None else path
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# --- in the running dashboard ---------------------------------------------------------


def _in_script_run() -> bool:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    return get_script_run_ctx(suppress_warning=True) is not None


def current_viewer() -> Viewer:
    """The viewer of this session. Outside a signed-in session with login required: NotSignedIn."""
    mode = auth_mode()
    if mode == MODE_NONE:
        return local_viewer()
    if not _in_script_run():
        raise NotSignedIn("需要登录：没有当前用户")
    import streamlit as st

    viewer = st.session_state.get(SESSION_VIEWER)
    if not isinstance(viewer, Viewer):
        raise NotSignedIn("需要登录")
    return viewer


def client_address() -> str | None:
    import streamlit as st

    try:
        return st.context.ip_address
    except Exception:  # noqa: BLE001 - not every runtime knows the address
        return None


def _still_valid(viewer: Viewer, accounts: Mapping[str, Account]) -> bool:
    account = accounts.get(viewer.name)
    return account is not None and account.viewer() == viewer


def _login_form(accounts: Mapping[str, Account]) -> None:
    import streamlit as st

    st.title("部门整体支出绩效自评 比较看板")
    st.subheader("登录")
    with st.form("login", clear_on_submit=False, width=420):
        name = st.text_input("用户名", key="login_name", autocomplete="username")
        password = st.text_input("密码", type="password", key="login_password", autocomplete="current-password")
        submitted = st.form_submit_button("登录", type="primary")
    if not submitted:
        return
    name = name.strip()
    address = client_address()
    if login_locked(name, address):
        append_audit(audit_record("login_locked", None, user=name, address=address))
        st.error(f"连续登录失败次数过多，请 {LOCKOUT_SECONDS // 60} 分钟后再试。")
        return
    viewer = authenticate(accounts, name, password)
    if viewer is None:
        login_failed(name, address)
        append_audit(audit_record("login_failed", None, user=name, address=address))
        st.error("用户名或密码不正确。")
        return
    login_succeeded(name, address)
    append_audit(audit_record("login", viewer, address=address))
    st.session_state[SESSION_VIEWER] = viewer
    st.session_state[SESSION_TOKEN] = issue_session(viewer.name)
    st.session_state[PENDING_COOKIE] = True
    st.session_state.pop("login_password", None)
    st.rerun()


def _hand_over_cookie() -> None:
    """After signing in: the browser fetches the session cookie with a one-time code and comes back."""
    import streamlit as st

    if not st.session_state.pop(PENDING_COOKIE, False) or not st.session_state.get(SESSION_TOKEN):
        return
    if not SERVED_WITH_GUARD:
        return
    code = claim_code(st.session_state[SESSION_TOKEN])
    st.html(f"""<script>
        (function () {{
            const here = window.location.pathname + window.location.search;
            const root = window.location.pathname.replace(/[^/]*$/, "");
            window.location.replace(root + "{SESSION_ROUTE}?code={code}&next=" + encodeURIComponent(here));
        }})();
    </script>""", unsafe_allow_javascript=True)


def sign_out() -> None:
    import streamlit as st

    revoke_session(st.session_state.pop(SESSION_TOKEN, None))
    try:
        revoke_session(st.context.cookies.get(SESSION_COOKIE))
    except Exception:  # noqa: BLE001 - no cookies outside a browser
        pass
    viewer = st.session_state.pop(SESSION_VIEWER, None)
    append_audit(audit_record("logout", viewer if isinstance(viewer, Viewer) else None, address=client_address()))


def sidebar_identity(viewer: Viewer) -> None:
    """Who is signed in, and the way out, at the foot of the sidebar (nothing without login)."""
    import streamlit as st

    mode = auth_mode()
    if mode == MODE_NONE:
        return
    st.caption(f"当前用户：{viewer.label()}")
    if not SERVED_WITH_GUARD:
        st.caption("注意：看板不是用 make dashboard 启动的，下载地址没有登录检查，刷新页面需要重新登录。")
    if mode == MODE_USERS:
        st.button("退出登录", key="sign_out", on_click=sign_out, icon=":material/logout:")


def require_viewer() -> Viewer | None:
    """The viewer of this run, or None after drawing what stands in the way (login form, error)."""
    import streamlit as st

    try:
        mode = auth_mode()
        if mode == MODE_NONE:
            return local_viewer()
        accounts = current_accounts()
    except AuthConfigError as error:
        st.title("部门整体支出绩效自评 比较看板")
        st.error(f"看板的访问设置有误，暂不显示任何数据：{error}")
        return None
    if mode == MODE_HEADER:
        refusal = header_mode_refusal(listen_address(), client_address())
        if refusal is not None:
            st.title("部门整体支出绩效自评 比较看板")
            st.error(f"看板的访问设置不安全，暂不显示任何数据：{refusal}。")
            return None
        viewer = viewer_from_header(st.context.headers, auth_header(), accounts)
        if viewer is None:
            st.title("部门整体支出绩效自评 比较看板")
            st.error("无法确认您的身份：请通过单位的统一入口访问看板，或请管理员在用户文件中登记您的用户名。")
            return None
        st.session_state[SESSION_VIEWER] = viewer
        return viewer
    viewer = st.session_state.get(SESSION_VIEWER)
    if isinstance(viewer, Viewer) and _still_valid(viewer, accounts) and _token_still_valid(accounts):
        _hand_over_cookie()
        return viewer
    st.session_state.pop(SESSION_VIEWER, None)
    try:
        token = st.context.cookies.get(SESSION_COOKIE)
    except Exception:  # noqa: BLE001 - no cookies outside a browser
        token = None
    viewer = session_viewer(token, accounts)
    if viewer is not None:
        st.session_state[SESSION_VIEWER] = viewer
        st.session_state[SESSION_TOKEN] = token
        return viewer
    _login_form(accounts)
    return None


def _token_still_valid(accounts: Mapping[str, Account]) -> bool:
    """The session's token has not expired or been revoked (a sign-out in another tab ends this one too)."""
    import streamlit as st

    token = st.session_state.get(SESSION_TOKEN)
    return token is None or session_viewer(token, accounts) is not None


# --- the command line: python -m dashboard.auth ------------------------------------------


def _warn_unknown_unit(unit: str) -> None:
    """A unit name the warehouse does not know gives an account that sees nothing; say so."""
    db = settings.db_path()
    if not db.exists():
        return
    try:
        import duckdb

        with duckdb.connect(str(db), read_only=True) as con:
            known = con.execute("SELECT count(*) FROM units WHERE unit_name = ?", [unit]).fetchone()[0]
    except Exception:  # noqa: BLE001 - the warning is a courtesy; the account is written regardless
        return
    if not known:
        print(f"注意：数据仓库 {db} 的单位名录中没有“{unit}”，该用户登录后将看不到任何数据。", file=sys.stderr)


def _read_new_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("密码：")
        if getpass.getpass("再输入一次：") != password:
            raise SystemExit("两次输入的密码不一致，未保存。")
    if len(password) < 8:
        raise SystemExit("密码至少 8 个字符，未保存。")
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.auth", description="看板用户管理（用户文件，TOML）")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-user", help="添加用户或修改已有用户（角色、单位、密码）")
    add.add_argument("--file", type=Path, default=None, help="用户文件，默认 PERF_USERS_FILE 或 users.toml")
    add.add_argument("--name", required=True, help="用户名（header 模式下即代理传来的用户名）")
    add.add_argument("--role", required=True, choices=ROLES, help="bureau：财政局，看全部；unit：只看本单位")
    add.add_argument("--unit", help="单位名称（role=unit 时必填，与单位名录一致）")
    add.add_argument("--no-password", action="store_true", help="不设密码（只用于 PERF_AUTH=header）")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读一行作为密码（用于脚本）")
    remove = commands.add_parser("remove-user", help="删除用户")
    remove.add_argument("--file", type=Path, default=None)
    remove.add_argument("--name", required=True)
    listing = commands.add_parser("list", help="列出用户（不显示密码哈希）")
    listing.add_argument("--file", type=Path, default=None)
    args = parser.parse_args(argv)

    path = args.file or users_file()
    try:
        accounts = read_users(path) if path.exists() else {}
    except AuthConfigError as error:
        print(error, file=sys.stderr)
        return 2
    if args.command == "list":
        for account in accounts.values():
            state = "有密码" if account.password else "无密码"
            print(f"{account.name}\t{account.role}\t{account.unit or ''}\t{state}")
        return 0
    if args.command == "remove-user":
        if accounts.pop(args.name, None) is None:
            print(f"没有用户 {args.name}", file=sys.stderr)
            return 1
        write_users(path, accounts)
        print(f"已删除用户 {args.name}（{path}）")
        return 0

    name = args.name.strip()
    unit = (args.unit or "").strip() or None
    if args.role == UNIT and not unit:
        parser.error("role=unit 需要 --unit 单位名称")
    if args.role == BUREAU and unit:
        parser.error("role=bureau 不需要 --unit")
    try:
        _toml_string(name), _toml_string(unit or "")
    except ValueError as error:
        parser.error(str(error))
    password = None if args.no_password else hash_password(_read_new_password(args.password_stdin))
    accounts[name] = Account(name=name, role=args.role, unit=unit, password=password)
    write_users(path, accounts)
    if unit:
        _warn_unknown_unit(unit)
    print(f"已保存用户 {name}（{ROLE_LABELS[args.role]}{'：' + unit if unit else ''}）到 {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
