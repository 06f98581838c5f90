from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

NAME = os.environ["FAKE_NAME"]
MODE = os.environ.get("FAKE_MODE", "ok")
STATE = Path(os.environ["FAKE_STATE"])
INSTANCE = os.environ.get(f"{NAME.upper()}_INSTANCE", "ok")


def record(kind: str, text: str) -> int:
    path = STATE / f"{NAME}.{kind}"
    with path.open("a") as f:
        f.write(text + "\n")
    return len(path.read_text().splitlines())


def serve(ready_after: int) -> None:
    calls = {"readyz": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            calls["readyz"] += 1
            ok = self.path != "/readyz" or calls["readyz"] > ready_after
            self.send_response(200 if ok else 503)
            self.end_headers()
            self.wfile.write((INSTANCE if ok else "not yet").encode())

        def log_message(self, fmt: str, *args: object) -> None:
            pass

    class SharedServer(ThreadingHTTPServer):
        allow_reuse_port = os.environ.get(f"{NAME.upper()}_HTTP_REUSE_PORT") == "true"

    port = int(os.environ[f"{NAME.upper()}_HTTP_PORT"])
    server = SharedServer(("127.0.0.1", port), Handler)
    own = int(os.environ.get(f"{NAME.upper()}_HTTP_INSTANCE_PORT", "0"))
    if own:
        threading.Thread(target=ThreadingHTTPServer(("127.0.0.1", own), Handler).serve_forever, daemon=True).start()
    print(f"{NAME} listening on {port}", flush=True)
    print(f"{NAME} says hello on stderr", file=sys.stderr, flush=True)
    server.serve_forever()


def api() -> None:
    starts = record("starts", f"{os.getpid()} {time.time()}")
    kind, _, arg = MODE.partition(":")
    if kind == "crash_first" and starts <= int(arg):
        print(f"{NAME} crashing on start {starts}", file=sys.stderr, flush=True)
        sys.exit(3)
    if kind == "ignore_term":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if kind == "spawn_child":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        record("children", str(child.pid))
    serve(int(arg) if kind == "ready_after" else 0)


def main() -> None:
    command = sys.argv[1]
    if command == "api":
        api()
    else:
        record("commands", command)
        print(f"{NAME} {command} done", flush=True)
        sys.exit(int(os.environ.get(f"FAKE_{command.upper()}_EXIT", "0")))


main()
