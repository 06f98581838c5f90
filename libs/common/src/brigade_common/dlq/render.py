"""What an operator sees of the DLQ: entries grouped by consumer and error, one entry in full, what
a replay did. Text for a terminal, where nothing taken from a message is printed unescaped (a
message is arbitrary bytes: escape sequences, bidi overrides, binary), or JSON for scripts."""

from __future__ import annotations

import base64
import contextlib
import json
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from nats.js.api import RawStreamMsg

from brigade_common.dlq.letters import DeadLetter
from brigade_common.dlq.replay import Outcome, Replay

ERROR_WIDTH = 100
SHOW_LIMIT = 64 * 1024  # bytes of a message shown as text; `--json` has all of it
HEX_LIMIT = 512  # bytes of a binary message shown as hex


def printable(text: str, *, multiline: bool = False) -> str:
    """`text` safe to print on a terminal: control and format characters escaped (`\\x1b`, `\\u202e`),
    newlines kept only when `multiline`."""
    return "".join(
        ch
        if (ch == "\n" and multiline) or unicodedata.category(ch)[0] != "C"
        else ch.encode("unicode_escape", "backslashreplace").decode("ascii")
        for ch in text
    )


def shorten(text: str, width: int = ERROR_WIDTH) -> str:
    """One printable line of at most `width` characters."""
    line = printable(text)
    return line if len(line) <= width else line[: width - 1] + "…"


def when(t: datetime | None) -> str:
    """A stream time, in UTC to the second."""
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if t else "?"


def seq_ranges(seqs: Sequence[int], most: int = 12) -> str:
    """`1-3, 7, 9-10`: runs of consecutive sequences; past `most` runs, how many more there are."""
    runs: list[list[int]] = []
    for seq in sorted(seqs):
        if runs and seq == runs[-1][1] + 1:
            runs[-1][1] = seq
        else:
            runs.append([seq, seq])
    parts = [str(a) if a == b else f"{a}-{b}" for a, b in runs]
    return ", ".join(parts[:most]) + (f" … ({len(parts) - most} more runs)" if len(parts) > most else "")


@dataclass(frozen=True)
class Group:
    """The entries of one consumer that failed with one error."""

    consumer: str
    error: str
    advisory: bool
    letters: tuple[DeadLetter, ...]

    @property
    def seqs(self) -> list[int]:
        return [letter.seq for letter in self.letters]

    @property
    def oldest(self) -> datetime | None:
        return min((letter.time for letter in self.letters if letter.time), default=None)

    @property
    def newest(self) -> datetime | None:
        return max((letter.time for letter in self.letters if letter.time), default=None)


def group(letters: Iterable[DeadLetter]) -> list[Group]:
    """Entries by consumer (by name), then by exact error (most frequent first)."""
    by_key: dict[tuple[str, str, bool], list[DeadLetter]] = {}
    for letter in letters:
        by_key.setdefault((letter.consumer, letter.error, letter.advisory), []).append(letter)
    groups = [Group(c, e, a, tuple(sorted(ls, key=lambda x: x.seq))) for (c, e, a), ls in by_key.items()]
    return sorted(groups, key=lambda g: (g.consumer, -len(g.letters), g.error))


def list_text(groups: Sequence[Group], where: str) -> str:
    """The DLQ as a human reads it: per consumer, each error with its count, times and sequences."""
    total = sum(len(g.letters) for g in groups)
    if not total:
        return f"The DLQ at {where} is empty.\n"
    consumers = sorted({g.consumer for g in groups})
    lines = [f"{total} in the DLQ at {where}, from {len(consumers)} consumer{'s' if len(consumers) > 1 else ''}", ""]
    width = len(str(max(len(g.letters) for g in groups)))
    for consumer in consumers:
        lines.append(printable(consumer) or "(unknown consumer)")
        for g in (g for g in groups if g.consumer == consumer):
            tag = "  [advisory: no payload, replayed from its stream]" if g.advisory else ""
            lines.append(f"  {len(g.letters):>{width}}  {shorten(g.error) or '(no error given)'}{tag}")
            oldest, newest = when(g.oldest), when(g.newest)
            span = oldest if oldest == newest else f"{oldest} … {newest}"
            lines.append(f"  {'':>{width}}  {span}   seq {seq_ranges(g.seqs)}")
    lines += ["", "show SEQ: one entry · replay SEQ… | replay --consumer NAME [--error TEXT] (try --dry-run)"]
    return "\n".join(lines) + "\n"


def list_json(groups: Sequence[Group]) -> dict[str, Any]:
    """The DLQ for a script: every group with its full error and every sequence."""
    return {
        "total": sum(len(g.letters) for g in groups),
        "groups": [
            {
                "consumer": g.consumer,
                "error": g.error,
                "kind": _kind(g.advisory),
                "count": len(g.letters),
                "oldest": _iso(g.oldest),
                "newest": _iso(g.newest),
                "seqs": g.seqs,
            }
            for g in groups
        ],
    }


def show_text(letter: DeadLetter, original: RawStreamMsg | None) -> str:
    """One entry in full: where it came from, its error, headers and the message, printed safely."""
    kind = "max-deliveries advisory (from the server: no payload of its own)" if letter.advisory else "dead letter"
    lines = [
        f"DLQ seq {letter.seq} · {kind} · {when(letter.time)}",
        f"consumer  {printable(letter.consumer)}   ({printable(letter.subject)})",
        f"error     {printable(letter.error, multiline=True)}",
    ]
    place = f"stream {printable(letter.original_stream)} seq {letter.original_seq}"
    if not letter.advisory:
        lines.append(f"original  {printable(letter.original_subject)} · {place}")
    elif original is not None:
        lines.append(f"original  {place}: still there, on {printable(original.subject or '')}")
    else:
        lines.append(f"original  {place}: no longer in its stream, so it cannot be replayed")
    envelope = letter.envelope
    if envelope is not None:
        lines.append(
            f"envelope  id {printable(envelope.id)} · type {printable(envelope.type)}"
            f" · correlation {printable(envelope.correlation_id)}"
        )
    lines.append("headers")
    lines += [f"  {printable(k)}: {printable(v)}" for k, v in letter.headers.items()] or ["  (none)"]
    if letter.advisory:
        lines += ["advisory", payload_text(letter.data)]
        if original is not None:
            data = original.data or b""
            lines += [f"message   {len(data)} bytes, from its stream", payload_text(data)]
    else:
        lines += [f"message   {len(letter.data)} bytes", payload_text(letter.data)]
    return "\n".join(lines) + "\n"


def show_json(letter: DeadLetter, original: RawStreamMsg | None) -> dict[str, Any]:
    """One entry for a script; the message as an envelope, JSON, text or base64, whichever it is."""
    message = letter.data if not letter.advisory else (original.data or b"") if original is not None else None
    return {
        "seq": letter.seq,
        "time": _iso(letter.time),
        "kind": _kind(letter.advisory),
        "subject": letter.subject,
        "consumer": letter.consumer,
        "error": letter.error,
        "original": {
            "subject": letter.original_subject or (original.subject if original is not None else None),
            "stream": letter.original_stream,
            "seq": letter.original_seq,
            "exists": True if not letter.advisory else original is not None,
        },
        "headers": dict(letter.headers),
        "advisory": payload_json(letter.data) if letter.advisory else None,
        "message": None if message is None else payload_json(message),
    }


def payload_text(data: bytes) -> str:
    """A message for a terminal: JSON pretty-printed, text escaped, anything else as a hex dump."""
    shown = data[:SHOW_LIMIT]
    more = f"\n… {len(data) - len(shown)} more bytes (--json has them all)" if len(data) > len(shown) else ""
    try:
        text = shown.decode("utf-8")
    except UnicodeDecodeError:
        return _hexdump(data)
    # Text that is not JSON (or JSON cut at SHOW_LIMIT) is shown as it is.
    with contextlib.suppress(ValueError):
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    return printable(text, multiline=True) + more


def payload_json(data: bytes) -> dict[str, Any]:
    """`{"json": …}` when the message is JSON, `{"text": …}` when it is text, else `{"base64": …}`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode("ascii")}
    try:
        return {"json": json.loads(text)}
    except ValueError:
        return {"text": text}


def _hexdump(data: bytes) -> str:
    lines = [f"(not text: the first {min(len(data), HEX_LIMIT)} of {len(data)} bytes in hex)"]
    for offset in range(0, min(len(data), HEX_LIMIT), 16):
        chunk = data[offset : offset + 16]
        ascii_ = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{offset:04x}  {chunk.hex(' '):<47}  |{ascii_}|")
    return "\n".join(lines)


def replay_line(r: Replay) -> str:
    """One line per entry replayed (or not, and why)."""
    head = f"{r.outcome.value:<12} {r.letter.seq:>6}  {printable(r.letter.consumer)}"
    envelope = f"  envelope {printable(r.envelope_id)}" if r.envelope_id else "  (no envelope id)"
    if r.outcome is Outcome.PLANNED:
        return f"{head}  {printable(r.subject)}{envelope}"
    if r.done:
        gist = "" if r.outcome is Outcome.REPLAYED else "  (replayed already within the duplicate window: kept once)"
        note = f"  ({printable(r.detail)})" if r.detail else ""
        where = f"{printable(r.letter.original_stream)} seq {r.stream_seq}"
        return f"{head}  {printable(r.subject)}{envelope}  → {where}{gist}{note}"
    return f"{head}  {printable(r.detail)}; left in the DLQ"


def _kind(advisory: bool) -> str:
    return "advisory" if advisory else "dead_letter"


def _iso(t: datetime | None) -> str | None:
    return t.astimezone(UTC).isoformat() if t else None
