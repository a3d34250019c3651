"""The console with authentication on: sign-in with an access key pair, the session cookie, CSRF, Host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sagebox.cli.server_process import ServerProcess
from tests.edge.auth_server import KeyPair, client, create_key, start_server
from tests.edge.ui.browser import ConsolePage, launch

expect = pytest.importorskip(
    "playwright.sync_api",
    reason="the console's browser tests need Playwright for Python (pip install -e '.[dev]')",
).expect


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("console-auth")


@pytest.fixture(scope="module")
def key(home: Path) -> KeyPair:
    return create_key(home, "console-user")


@pytest.fixture(scope="module")
def server(home: Path, key: KeyPair) -> Iterator[ServerProcess]:
    process = start_server(home, "--auth")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


def test_the_console_asks_for_a_key_pair_once_and_keeps_a_safe_session(
    browser: Any, server: ServerProcess, key: KeyPair
) -> None:
    sagemaker = client("sagemaker", server.endpoint_url, key)
    sagemaker.create_model_package_group(ModelPackageGroupName="signed-in-group")
    tab = ConsolePage(browser, server.endpoint_url)
    try:
        page = tab.open("/ui/model-package-groups")
        assert page.url.endswith("/ui/signin?next=/ui/model-package-groups")
        page.fill("input[name=access_key_id]", key.access_key_id)
        page.fill("input[name=secret_access_key]", "not-the-secret")
        page.click("button[type=submit]")
        expect(page.locator("#signin-failed")).to_be_visible()
        tab.errors.clear()  # the 401 answer to a wrong secret is expected
        page.fill("input[name=access_key_id]", key.access_key_id)
        page.fill("input[name=secret_access_key]", key.secret_access_key)
        page.click("button[type=submit]")
        page.wait_for_url("**/ui/model-package-groups")
        assert page.locator("table.list").inner_text().count("signed-in-group") == 1
        assert page.locator("header .who").inner_text().startswith("console-user")
        (cookie,) = [c for c in tab.context.cookies() if c["name"] == "sagebox_console"]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/ui"
        assert "sagebox_console" not in page.evaluate("document.cookie")
        # Signed in once: other pages open without asking again.
        tab.open("/ui/training-jobs")
        assert page.url.endswith("/ui/training-jobs")
        tab.screenshot("signed-in")
        page.click("header .who button")
        page.wait_for_url("**/ui/signin")
        tab.open("/ui/")
        assert "/ui/signin" in page.url
        tab.assert_no_errors()
    finally:
        tab.close()


def test_pages_need_a_session_and_forms_a_csrf_token(server: ServerProcess, key: KeyPair) -> None:
    with httpx.Client(base_url=server.endpoint_url, follow_redirects=False) as http:
        answer = http.get("/ui/training-jobs")
        assert (
            answer.status_code == 303
            and answer.headers["location"] == "/ui/signin?next=/ui/training-jobs"
        )
        assert (
            http.post(
                "/ui/model-package/approval", data={"arn": "x", "status": "Approved"}
            ).status_code
            == 403
        )
        form = http.get("/ui/signin")
        token = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        pair = {
            "access_key_id": key.access_key_id,
            "secret_access_key": key.secret_access_key,
            "next": "/ui/",
        }
        assert http.post("/ui/signin", data=pair).status_code == 403  # no CSRF token
        assert http.post("/ui/signin", data={**pair, "csrf": token}).status_code == 303
        signed_in = http.get("/ui/training-jobs")
        assert signed_in.status_code == 200
        token = signed_in.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        # A token from another session is worth nothing.
        assert (
            http.post(
                "/ui/model-package/approval",
                data={"arn": "x", "status": "Approved", "csrf": "0" * 64},
            ).status_code
            == 403
        )
        # A page asked for by a foreign name (DNS rebinding) or posted from a foreign origin is refused.
        assert http.get("/ui/", headers={"Host": "attacker.example"}).status_code == 400
        refused = http.post(
            "/ui/signout", data={"csrf": token}, headers={"Origin": "http://attacker.example"}
        )
        assert refused.status_code == 403 and "AccessDenied" in refused.text
        assert (
            http.get("/ui/training-jobs").status_code == 200
        )  # still signed in: the refused sign-out did nothing
        assert http.post("/ui/signout", data={"csrf": token}).status_code == 303
        assert http.get("/ui/training-jobs").status_code == 303
