"""Headless Chromium for the console tests: Debian's chromium driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "ui"
CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium_path() -> str | None:
    given = os.environ.get("SAGEBOX_CHROMIUM")
    if given:
        return given if Path(given).exists() else None
    for path in CANDIDATES:
        if Path(path).exists():
            return path
    return shutil.which("chromium")


def launch() -> Iterator[Any]:
    """A headless Chromium, or the test skipped saying what is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(
            "the console's browser tests need Playwright for Python (pip install -e '.[dev]')"
        )
    executable = chromium_path()
    if executable is None:
        pytest.skip(
            "the console's browser tests need Chromium: apt-get install -y chromium "
            "(or SAGEBOX_CHROMIUM=/path/to/chromium); no browser is downloaded"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


class ConsolePage:
    """One browser tab on the console that records the page's console errors and failed requests."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.base_url = base_url
        self.errors: list[str] = []
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on(
            "response",
            lambda r: (
                self.errors.append(f"HTTP {r.status} for {r.url}")
                if r.status >= 400 and "/ui/" in r.url
                else None
            ),
        )

    def open(self, path: str) -> Any:
        self.page.goto(self.base_url + path, wait_until="load")
        return self.page

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        target = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(target), full_page=True)
        return target

    def assert_no_errors(self) -> None:
        assert self.errors == [], self.errors

    def close(self) -> None:
        self.context.close()
