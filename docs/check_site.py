"""Check the built documentation in a real browser, offline.

Serves the built HTML on 127.0.0.1 (a free port), opens four pages in headless Chromium
(the home page, the gallery index, one executed example and one API page), and fails when

- an image does not load (missing file, not a decodable image) or a page shows none where
  it must (the gallery's thumbnails, the example's figures);
- an internal link or resource (``<a href>``, ``<img src>``, ``<script src>``,
  ``<link href>``) does not answer HTTP 200, or its ``#anchor`` is not on the target page;
- a page loads anything from outside the machine (scripts, styles, fonts, images from a
  CDN): the site must work offline (the HTML of every built page is scanned for this);
- the gallery is empty.

Screenshots of the four pages go to ``docs/_build/screenshots/*.png``. Chromium gets no
network beyond loopback: every host name except 127.0.0.1 resolves to nothing.

Usage: ``python docs/check_site.py docs/_build/html``
"""

from __future__ import annotations

import argparse
import functools
import html.parser
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    # Nothing but loopback resolves, so a stray remote resource cannot load (and is reported).
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--window-size=1280,1600",
    # Let the page's scripts (theme, copy buttons) run before the DOM or screenshot is taken.
    "--virtual-time-budget=5000",
]
CHROMIUM_TIMEOUT = 120  # seconds per page; a cold start on a loaded CI machine is slow

#: Pages to open, by screenshot name; ``None`` means "found in the build" (see below).
PAGES = {
    "home": "index.html",
    "gallery": "auto_examples/index.html",
    "example": None,
    "api": "generated/sknets.MLPClassifier.html",
}
PREFERRED_EXAMPLE = "auto_examples/plot_quickstart.html"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}
SKIPPED_SCHEMES = {"mailto", "javascript", "data", "tel"}


class CheckFailed(Exception):
    """The site has a problem a reader would see."""


# ------------------------------------------------------------------------- Chromium
def find_chromium() -> str:
    """Path of a Chromium binary; installs Debian's ``chromium`` when running as root."""
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("chromium not found; installing it with apt-get (Debian package 'chromium')")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "chromium"], check=True, env=env)
        path = shutil.which("chromium")
        if path:
            return path
    raise CheckFailed(
        "headless Chromium is needed to check the site and was not found (looked for "
        f"{', '.join(CHROMIUM_CANDIDATES)}). Install it, e.g. 'sudo apt-get install -y "
        "chromium' on Debian/Ubuntu, or run this script as root to install it automatically."
    )


def run_chromium(chromium: str, *arguments: str) -> str:
    """Run headless Chromium with a fresh profile; return its standard output."""
    with tempfile.TemporaryDirectory(prefix="sknets-chromium-") as profile:
        command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT, check=False
        )
    if result.returncode != 0:
        raise CheckFailed(
            f"chromium exited with {result.returncode} on {arguments[-1]}:\n{result.stderr[-2000:]}"
        )
    return result.stdout


# ---------------------------------------------------------------------- the server
class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the signature http.server calls
        pass


def serve(root: Path) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``root`` on a free loopback port from a daemon thread; return server and base URL."""
    handler = functools.partial(QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


# --------------------------------------------------------------------- DOM parsing
class PageParser(html.parser.HTMLParser):
    """Collect what a page refers to, the ids it defines and the classes it uses."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []  # <a href>: navigation, may point outside
        self.resources: list[tuple[str, str]] = []  # (tag, url) the browser loads itself
        self.images: list[str] = []
        self.ids: set[str] = set()
        self.classes: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        if tag == "a" and attributes.get("name"):
            self.ids.add(attributes["name"])
        self.classes += (attributes.get("class") or "").split()
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag == "img" and attributes.get("src"):
            self.images.append(attributes["src"])
            self.resources.append(("img", attributes["src"]))
        elif tag == "script" and attributes.get("src"):
            self.resources.append(("script", attributes["src"]))
        elif tag == "link" and attributes.get("href"):
            relations = (attributes.get("rel") or "").split()
            if {"stylesheet", "icon", "preload", "modulepreload"} & set(relations):
                self.resources.append(("link", attributes["href"]))
        elif tag in ("source", "iframe", "embed") and attributes.get("src"):
            self.resources.append((tag, attributes["src"]))


def parse(text: str) -> PageParser:
    parser = PageParser()
    parser.feed(text)
    return parser


# ------------------------------------------------------------------------- checking
class SiteChecker:
    def __init__(self, root: Path, base_url: str, chromium: str, screenshot_dir: Path) -> None:
        self.root = root
        self.base_url = base_url
        self.chromium = chromium
        self.screenshot_dir = screenshot_dir
        self.problems: list[str] = []
        self._fetched: dict[str, bytes | None] = {}
        self._ids: dict[str, set[str]] = {}

    def report(self, problem: str) -> None:
        if problem not in self.problems:  # a page often links the same target several times
            self.problems.append(problem)

    def fetch(self, url: str) -> bytes | None:
        """Body of a loopback URL, or None when it does not answer 200."""
        if url not in self._fetched:
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    self._fetched[url] = response.read() if response.status == 200 else None
            except (urllib.error.URLError, OSError):
                self._fetched[url] = None
        return self._fetched[url]

    def is_internal(self, url: str) -> bool:
        parts = urllib.parse.urlsplit(url)
        return parts.scheme in ("http", "https") and parts.hostname in LOOPBACK_HOSTS

    def check_page(self, name: str, path: str) -> PageParser:
        url = urllib.parse.urljoin(self.base_url, path)
        if self.fetch(url) is None:
            raise CheckFailed(f"{name} page {path} does not exist in the build")
        screenshot = self.screenshot_dir / f"{name}.png"
        run_chromium(self.chromium, f"--screenshot={screenshot}", url)
        if not screenshot.is_file() or screenshot.stat().st_size == 0:
            self.report(f"{name}: no screenshot was written for {path}")
        # The DOM after the page's scripts ran, as the reader's browser has it.
        page = parse(run_chromium(self.chromium, "--dump-dom", url))
        if not page.ids:
            raise CheckFailed(f"{name}: Chromium rendered an empty page for {path}")
        self.check_references(name, url, page)
        print(
            f"  {name:8} {path}: {len(page.links)} links, {len(page.images)} images, "
            f"{len(page.resources)} resources; screenshot {screenshot}"
        )
        return page

    def check_references(self, name: str, page_url: str, page: PageParser) -> None:
        for tag, reference in page.resources:
            target = urllib.parse.urljoin(page_url, reference)
            scheme = urllib.parse.urlsplit(target).scheme
            if scheme in SKIPPED_SCHEMES:
                continue
            if not self.is_internal(target):
                self.report(
                    f"{name}: <{tag}> loads {reference} from outside the machine; the site "
                    "must work offline"
                )
                continue
            body = self.fetch(urllib.parse.urldefrag(target).url)
            if body is None:
                self.report(f"{name}: <{tag}> {reference} is missing (no HTTP 200)")
            elif tag == "img":
                self.check_image(name, reference, body)
        for reference in page.links:
            target = urllib.parse.urljoin(page_url, reference)
            if urllib.parse.urlsplit(target).scheme in SKIPPED_SCHEMES:
                continue
            if not self.is_internal(target):
                continue  # a link to another site is fine; it is not followed
            document, fragment = urllib.parse.urldefrag(target)
            body = self.fetch(document)
            if body is None:
                self.report(f"{name}: broken link {reference} (no HTTP 200)")
            elif fragment and document.endswith(".html") and fragment not in self.ids(document):
                self.report(f"{name}: link {reference}: no #{fragment} on that page")

    def ids(self, document_url: str) -> set[str]:
        if document_url not in self._ids:
            self._ids[document_url] = parse(self.fetch(document_url).decode("utf-8")).ids
        return self._ids[document_url]

    def check_image(self, name: str, reference: str, body: bytes) -> None:
        if not body:
            self.report(f"{name}: image {reference} is an empty file")
            return
        if reference.lower().split("?")[0].endswith(".svg"):
            if b"<svg" not in body[:4096]:
                self.report(f"{name}: image {reference} is not an SVG file")
            return
        try:
            from PIL import Image
        except ImportError:  # without Pillow, a non-empty 200 answer is the best we know
            return
        try:
            with Image.open(io.BytesIO(body)) as image:
                image.verify()
        except Exception as error:  # noqa: BLE001 - Pillow raises many types for bad files
            self.report(f"{name}: image {reference} cannot be decoded ({error})")

    def check_offline_everywhere(self) -> int:
        """Scan every built page's HTML (not only the four opened) for remote resources."""
        pages = sorted(self.root.rglob("*.html"))
        for page_path in pages:
            relative = page_path.relative_to(self.root).as_posix()
            page = parse(page_path.read_text(encoding="utf-8", errors="replace"))
            for tag, reference in page.resources:
                parts = urllib.parse.urlsplit(reference)
                remote = parts.scheme in ("http", "https") or reference.startswith("//")
                if remote and parts.hostname not in LOOPBACK_HOSTS:
                    self.report(
                        f"{relative}: <{tag}> loads {reference} from outside the machine; "
                        "the site must work offline"
                    )
        return len(pages)

    def find_example_page(self) -> str:
        preferred = self.root / PREFERRED_EXAMPLE
        if preferred.is_file():
            return PREFERRED_EXAMPLE
        pages = sorted((self.root / "auto_examples").glob("plot_*.html"))
        if not pages:
            raise CheckFailed("the gallery is empty: no auto_examples/plot_*.html page was built")
        return pages[0].relative_to(self.root).as_posix()

    def run(self) -> None:
        pages = {**PAGES, "example": self.find_example_page()}
        print(f"Checking {self.root} at {self.base_url} with {self.chromium}")
        parsed = {name: self.check_page(name, path) for name, path in pages.items()}

        thumbnails = parsed["gallery"].classes.count("sphx-glr-thumbcontainer")
        examples_built = len(list((self.root / "auto_examples").glob("plot_*.html")))
        if thumbnails == 0:
            self.report("gallery: the gallery index shows no example")
        elif thumbnails < examples_built:
            self.report(f"gallery: {thumbnails} thumbnails for {examples_built} example pages")
        example = parsed["example"]
        figures = [src for src in example.images if "sphx_glr_" in src]
        if not figures:
            self.report(f"example: {pages['example']} shows no figure from its code")
        if "sphx-glr-script-out" not in example.classes:
            self.report(f"example: {pages['example']} shows no printed output")
        if not any(identifier.startswith("sknets.") for identifier in parsed["api"].ids):
            self.report(f"api: {pages['api']} documents no sknets object")
        print(f"  gallery: {thumbnails} examples; example page: {len(figures)} figures")
        n_pages = self.check_offline_everywhere()
        print(f"  offline: scanned the HTML of all {n_pages} pages for remote resources")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html_dir", type=Path, help="the built site, e.g. docs/_build/html")
    parser.add_argument(
        "--screenshots",
        type=Path,
        default=None,
        help="where to save the screenshots (default: <html_dir>/../screenshots)",
    )
    args = parser.parse_args(argv)
    root = args.html_dir.resolve()
    if not (root / "index.html").is_file():
        print(f"error: {root} has no index.html; build the docs first (make docs)")
        return 2
    screenshot_dir = (args.screenshots or root.parent / "screenshots").resolve()
    screenshot_dir.mkdir(parents=True, exist_ok=True)
    try:
        chromium = find_chromium()
        server, base_url = serve(root)
        try:
            checker = SiteChecker(root, base_url, chromium, screenshot_dir)
            checker.run()
        finally:
            server.shutdown()
            server.server_close()
    except (CheckFailed, subprocess.SubprocessError) as error:
        print(f"error: {error}")
        return 1
    if checker.problems:
        print(f"\n{len(checker.problems)} problem(s):")
        for problem in checker.problems:
            print(f"  - {problem}")
        return 1
    print(f"OK: no missing image, broken link or remote resource. Screenshots in {screenshot_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
