"""Runs beside the supervisor and stops its children if the supervisor dies without doing so.

Protocol on stdin, one line each: `watch <entry as JSON>` / `unwatch <pid>`. End of input means the
supervisor is gone (the kernel closes its end of the pipe however it died): stop whatever is
still watched.
"""

from __future__ import annotations

import json
import signal
import sys

from brigade_devstack.registry import Entry, terminate


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watched: dict[int, Entry] = {}
    for raw in sys.stdin.buffer:
        verb, _, rest = raw.decode().strip().partition(" ")
        if verb == "watch":
            entry = Entry(**json.loads(rest))
            watched[entry.pid] = entry
        elif verb == "unwatch":
            watched.pop(int(rest), None)
    terminate(watched.values())
    return 0


if __name__ == "__main__":
    sys.exit(main())
