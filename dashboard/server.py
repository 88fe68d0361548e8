"""The dashboard as served by `make dashboard`: the Streamlit app (dashboard/app.py) with its
access rules also on the plain HTTP requests Streamlit answers outside a page's session.

- /media/… (the files behind every download button): answered only to a request that shows
  the same identity a page needs — the session cookie in users mode, the proxy's header
  (from a trusted address) in header mode — and every fetch of a download is recorded in the
  audit log with the user and the address, not only the click that produced it.
- /auth/session: turns the one-time code the page hands over after signing in into the
  HttpOnly session cookie, then returns to the page (see dashboard.auth).

At start it reads the published build ahead of the first visit (dashboard.preload).

`streamlit run dashboard/app.py` still works for a single-user machine (PERF_AUTH=none);
with login it must be served through this file.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import urllib.parse
from http.cookies import SimpleCookie
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
if str(PROJECT_ROOT) not in sys.path:
    sys.path.insert(0, str(PROJECT_ROOT))

import streamlit as st  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402
from starlette.responses import PlainTextResponse, RedirectResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

from dashboard import auth, preload  # noqa: E402



def media_prefix() -> str:
    """Where Streamlit serves download files: /media/, under server.baseUrlPath when one is set
    (not /static/media/, the app's own fonts)."""
    from streamlit import config

    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/media/" if base else "/media/"


def _safe_next(target: str | None) -> str:
    """Only a path of this site: never another host (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def session_route(request):
    token = auth.redeem_claim(request.query_params.get("code", ""))
    if token is None:
        return PlainTextResponse("登录凭证无效或已过期，请重新登录。", status_code=400)
    response = RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    response.set_cookie(auth.SESSION_COOKIE, token, max_age=int(auth.session_hours() * 3600), path="/",
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")
    return response


def _header_map(scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _cookies(headers: dict[str, str]) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a malformed cookie header identifies no one
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


class MediaGuard:
    """ASGI middleware: the download files answer only to a known viewer, and every fetch is logged."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope.get("path", "").startswith(media_prefix()):
            await self.app(scope, receive, send)
            return
        headers = _header_map(scope)
        client = (scope.get("client") or (None, None))[0]
        try:
            viewer = auth.request_viewer(mode=auth.auth_mode(), cookies=_cookies(headers), headers=headers,
                                         client=client, listen=auth.listen_address())
        except auth.AuthConfigError:
            viewer = None
        if viewer is None:
            auth.append_audit(auth.audit_record("download_refused", None, path=scope["path"], address=client))
            await PlainTextResponse("需要登录后才能下载。", status_code=403)(scope, receive, send)
            return

        async def send_and_record(message):
            if message["type"] == "http.response.start":
                response_headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                                    for k, v in message.get("headers", [])}
                disposition = response_headers.get("content-disposition", "")
                if message.get("status") == 200 and scope.get("method") == "GET" and "attachment" in disposition:
                    auth.append_audit(auth.audit_record(
                        "download_fetch", viewer, path=scope["path"], address=client,
                        file=urllib.parse.unquote(disposition.split("''")[-1].split('filename="')[-1].rstrip('"'))))
            await send(message)

        await self.app(scope, receive, send_and_record)


@contextlib.asynccontextmanager
async def lifespan(_app):
    """At start: read the published build ahead of the first page (dashboard.preload, on a thread
    that then watches for new builds); answer once it is read, or after PRELOAD_WAIT_SECONDS."""
    preload.start_watching()
    await asyncio.to_thread(preload.FIRST_DONE.wait, preload.PRELOAD_WAIT_SECONDS)
    yield


auth.SERVED_WITH_GUARD = True
app = st.App(str(Path(__file__).resolve().parent / "app.py"),
             routes=[Route(f"/{auth.SESSION_ROUTE}", session_route)],
             middleware=[Middleware(MediaGuard)], lifespan=lifespan)
