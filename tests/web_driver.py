"""A small W3C WebDriver client (httpx) for Debian's chromedriver + headless chromium.

Only what the browser tests need: open pages, find elements by CSS, click, type, run a
script, wait for something to show, save screenshots. No selenium dependency.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
    "--lang=ru-RU",
)


class WebDriverError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_chromium() -> tuple[str, str] | None:
    """(chromium binary, chromedriver binary), or None when either is missing."""
    chrome = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver") or (
        "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None
    )
    return (chrome, driver) if chrome and driver else None


class Browser:
    """One chromedriver process and one browser session."""

    def __init__(self, width: int = 1280, height: int = 900, log_path: Path | None = None) -> None:
        found = find_chromium()
        if found is None:
            raise WebDriverError(
                "chromium / chromedriver not installed (scripts/install_web_tools.sh --browser)"
            )
        chrome, driver = found
        self.port = free_port()
        log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
        self._driver = subprocess.Popen(
            [driver, f"--port={self.port}"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self._http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60.0)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self._http.get("/status").json()["value"].get("ready"):
                    break
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline or self._driver.poll() is not None:
                self._driver.kill()
                raise WebDriverError("chromedriver did not start")
            time.sleep(0.1)
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chrome,
                        "args": [*CHROME_ARGS, f"--window-size={width},{height}"],
                    },
                }
            }
        }
        value = self._call("POST", "/session", caps)
        self.session = value["sessionId"]
        self.set_window(width, height)

    # --- protocol -------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=body if body is not None else None)
        try:
            value = response.json().get("value")
        except ValueError as exc:
            raise WebDriverError(f"{method} {path}: HTTP {response.status_code}") from exc
        if response.status_code >= 400:
            error = value.get("error") if isinstance(value, dict) else value
            message = value.get("message", "") if isinstance(value, dict) else ""
            raise WebDriverError(f"{method} {path}: {error}: {message[:300]}")
        return value

    def _s(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body if body is not None else {})

    # --- browser --------------------------------------------------------------------------------

    def get(self, url: str) -> None:
        self._s("POST", "/url", {"url": url})

    @property
    def url(self) -> str:
        return str(self._s("GET", "/url"))

    def set_window(self, width: int, height: int) -> None:
        self._s("POST", "/window/rect", {"width": width, "height": height})

    def script(self, source: str, *args: Any) -> Any:
        return self._s("POST", "/execute/sync", {"script": source, "args": list(args)})

    def screenshot(self, path: Path, full_page: bool = True) -> Path:
        """Save a PNG; full_page grows the window to the page height first (then restores it)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        rect = self._s("GET", "/window/rect")
        if full_page:
            height = int(
                self.script(
                    "const d = document.documentElement;"
                    "return Math.max(d.scrollHeight, document.body.scrollHeight, window.innerHeight);"
                )
                or 0
            )
            if height > rect["height"]:
                self.set_window(rect["width"], min(height + 140, 6000))
                time.sleep(0.3)
        data = self._s("GET", "/screenshot")
        path.write_bytes(base64.b64decode(data))
        if full_page:
            self.set_window(rect["width"], rect["height"])
        return path

    def quit(self) -> None:
        try:
            self._s("DELETE", "")
        except (WebDriverError, httpx.HTTPError):
            pass
        finally:
            self._http.close()
            self._driver.terminate()
            try:
                self._driver.wait(10)
            except subprocess.TimeoutExpired:
                self._driver.kill()

    # --- elements -------------------------------------------------------------------------------

    def find_all(self, css: str) -> list[str]:
        found = self._s("POST", "/elements", {"using": "css selector", "value": css})
        return [e[ELEMENT] for e in found]

    def find(self, css: str) -> str | None:
        found = self.find_all(css)
        return found[0] if found else None

    def text(self, css: str) -> str:
        return str(
            self.script("const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", css)
        )

    def texts(self, css: str) -> list[str]:
        return list(
            self.script(
                "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText);", css
            )
        )

    def click(self, css: str, timeout: float = 20) -> None:
        element = self.wait_for(css, timeout)
        self.script("arguments[0].scrollIntoView({block: 'center'});", {ELEMENT: element})
        try:
            self._s("POST", f"/element/{element}/click")
        except WebDriverError as exc:
            if "intercepted" not in str(exc) and "not interactable" not in str(exc):
                raise
            self.script("arguments[0].click();", {ELEMENT: element})

    def type(self, css: str, text: str, clear: bool = True, timeout: float = 20) -> None:
        element = self.wait_for(css, timeout)
        if clear:
            self._s("POST", f"/element/{element}/clear")
        self._s("POST", f"/element/{element}/value", {"text": text})

    def select(self, css: str, value: str, timeout: float = 20) -> None:
        """Pick an option of a native <select> by its value."""
        self.click(f'{css} option[value="{value}"]', timeout)

    def value(self, css: str) -> str:
        return str(
            self.script("const e = document.querySelector(arguments[0]); return e ? e.value : '';", css)
        )

    # --- waiting ------------------------------------------------------------------------------

    def wait_until(self, condition: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                result = condition()
                if result:
                    return result
            except WebDriverError as exc:
                last_error = exc
            time.sleep(0.25)
        raise TimeoutError(
            f"timed out after {timeout:.0f}s waiting for {what} (url {self.url}; {last_error})"
        )

    def wait_for(self, css: str, timeout: float = 30, text: str | None = None) -> str:
        """The first element matching `css` (and containing `text`, when given) once visible."""

        def ready() -> str | None:
            for element in self.find_all(css):
                shown = self.script(
                    "const e = arguments[0]; const r = e.getBoundingClientRect();"
                    "const shown = r.width > 0 || r.height > 0 || e.tagName === 'OPTION';"
                    "return [shown, e.innerText || e.value || ''];",
                    {ELEMENT: element},
                )
                if shown[0] and (text is None or text in str(shown[1])):
                    return element
            return None

        what = css if text is None else f"{css} containing {text!r}"
        return str(self.wait_until(ready, timeout, what))


def screenshot_dir() -> Path:
    root = Path(os.environ.get("RECSYS_ARTIFACTS", Path(__file__).resolve().parents[1] / ".artifacts"))
    return root / "screenshots"
