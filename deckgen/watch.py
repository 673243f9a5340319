"""`deckgen preview --watch`: the preview on localhost, rebuilt when a file is saved, the tab reloaded.

An author writing a scenario wants to see the card change as they type. The server binds to
127.0.0.1 only and answers from memory: the pages and media of the last good build (no file
on disk is served, so no path can reach outside it). A file watcher (watchfiles, inotify on
Linux) notices a save; the rebuild goes through the render cache, so only the saved file is
parsed and rendered again, and cards of unchanged notes are reused. Each page carries a small
script that long-polls ``/__deckgen/wait`` and reloads when the build's number moves on. A
file with a problem replaces every page with its ``path:line`` messages (printed in the
terminal too) until it is fixed.
"""

from __future__ import annotations

import html
import http.server
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from deckgen.builder import BuildOptions, load_project
from deckgen.errors import DeckgenError, Problem
from deckgen.preview import CardMemo, render_site, site_files

WAIT_SECONDS = 20.0

RELOAD = """<script>
(function () {
  var seen = %d;
  function wait() {
    fetch("/__deckgen/wait?v=" + seen, {cache: "no-store"}).then(function (r) { return r.json(); })
      .then(function (d) { if (d.version !== seen) { location.reload(); } else { wait(); } })
      .catch(function () { setTimeout(wait, 1000); });
  }
  wait();
})();
</script>"""

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


@dataclass
class State:
    """What the server shows: the last build's files, or the problems of the last attempt."""

    version: int = 0
    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def publish(self, files: dict[str, bytes], problems: list[str]) -> None:
        with self.changed:
            if files:
                self.files = files
            self.problems = problems
            self.version += 1
            self.changed.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self.changed:
            self.changed.wait_for(lambda: self.version != seen, timeout)
            return self.version


def _with_reload(page: bytes, version: int) -> bytes:
    return page.replace(b"</body>", (RELOAD % version).encode() + b"</body>", 1)


def _problem_page(problems: list[str], version: int) -> bytes:
    lines = "".join(f"<li><code>{html.escape(p)}</code></li>" for p in problems)
    body = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>deckgen: problems</title>'
        "<style>body{font:16px/1.45 sans-serif;margin:16px;color:#1d232a}code{white-space:pre-wrap;"
        "overflow-wrap:anywhere}li{margin:0 0 8px}h1{font-size:20px;color:#b42318}</style></head><body>"
        f"<h1>The sources have {len(problems)} problem{'s' * (len(problems) != 1)}</h1>"
        f'<ul class="pv-problems">{lines}</ul><p>Fix and save: this page reloads.</p></body></html>'
    )
    return _with_reload(body.encode(), version)


class Rebuilder:
    """Builds the site from the sources, reusing the render cache and unchanged notes' cards."""

    def __init__(self, scenarios_dir: Path, media_dir: Path, cache_dir: Path):
        self.scenarios_dir, self.media_dir, self.cache_dir = scenarios_dir, media_dir, cache_dir
        self.memo: CardMemo = {}

    def __call__(self) -> tuple[dict[str, bytes], list[str]]:
        try:
            project = load_project(self.scenarios_dir, self.media_dir, cache_dir=self.cache_dir)
            site = render_site(project, BuildOptions(), self.memo)
            files = site_files(site)  # a media file gone since loading is a problem shown, not a crash
        except DeckgenError as exc:
            return {}, [str(p) for p in exc.problems]
        if project.cache is not None:
            project.cache.save()
        if len(self.memo) > 2 * len(site.notes) + 16:  # old versions of edited notes pile up: start afresh
            self.memo.clear()
        return files, []


def _handler(state: State) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: the terminal shows rebuilds
            return

        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            url = urlsplit(self.path)
            if url.path == "/__deckgen/wait":
                seen = int((parse_qs(url.query).get("v") or ["-1"])[0] or -1)
                self._send(200, "application/json", json.dumps({"version": state.wait(seen, WAIT_SECONDS)}).encode())
                return
            rel = url.path.lstrip("/") or "index.html"
            with state.changed:
                version, files, problems = state.version, state.files, list(state.problems)
            if problems and rel.endswith(".html"):
                self._send(200, TYPES[".html"], _problem_page(problems, version))
                return
            data = files.get(rel)
            if data is None:
                self._send(404, "text/plain; charset=utf-8", b"not in the preview\n")
                return
            kind = TYPES.get(Path(rel).suffix, "application/octet-stream")
            self._send(200, kind, _with_reload(data, version) if rel.endswith(".html") else data)

        def _send(self, status: int, kind: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

    return Handler


def serve(
    scenarios_dir: Path | str,
    media_dir: Path | str,
    cache_dir: Path | str,
    port: int = 8765,
    stop: threading.Event | None = None,
    on_ready: Callable[[str], object] | None = None,
    log: Callable[[str], None] = print,
) -> None:
    """Serve and rebuild until ``stop`` is set (or Ctrl-C). ``on_ready`` gets the URL once it listens."""
    import watchfiles

    scenarios_dir, media_dir = Path(scenarios_dir), Path(media_dir)
    rebuild = Rebuilder(scenarios_dir, media_dir, Path(cache_dir))
    state = State()
    started = time.perf_counter()
    files, problems = rebuild()
    state.publish(files, problems)
    _report(log, problems, time.perf_counter() - started, "built")
    try:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _handler(state))
    except OSError as exc:
        raise DeckgenError(
            Problem(
                "--port", None, f"cannot listen on 127.0.0.1:{port}: {exc.strerror}; pass --port N (0 picks a free one)"
            )
        ) from None
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    log(f"serving {url} (Ctrl-C stops)")
    if on_ready is not None:
        on_ready(url)
    stop = stop or threading.Event()
    watched = [p for p in (scenarios_dir, media_dir, scenarios_dir.parent / "CHANGELOG.md") if p.exists()]
    try:
        for changes in watchfiles.watch(*watched, stop_event=stop, step=30, debounce=400, raise_interrupt=False):
            started = time.perf_counter()
            files, problems = rebuild()
            state.publish(files, problems)
            _report(log, problems, time.perf_counter() - started, f"rebuilt after {len(changes)} change(s)")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _report(log: Callable[[str], None], problems: list[str], seconds: float, what: str) -> None:
    if problems:
        log(f"{len(problems)} problem(s), shown on the page:")
        for p in problems:
            log(p)
    else:
        log(f"{what} in {seconds:.2f} s")
