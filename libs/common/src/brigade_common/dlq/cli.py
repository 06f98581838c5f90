"""`python -m brigade_common.dlq`: the dead-letter stream, for an operator (`make dlq ARGS="…"`).

    list   [--consumer NAME] [--error TEXT] [--json]         entries by consumer and error
    show   SEQ [--json]                                      one entry: origin, error, headers, message
    replay SEQ… | [--consumer NAME] [--error TEXT] [--dry-run]   back to the original subject, once
    drop   SEQ…                                              delete entries dealt with by hand

The server is `--nats-url`, else $NATS_URL, else the local stack's nats://127.0.0.1:4222. Replays
and drops are logged (`dlq_replayed`, `dlq_dropped`) on stderr. Why a replay is delivered exactly
once: `brigade_common.dlq.replay`.

Exit codes: 0 done (also: nothing matched the selection); 1 some selected entries were not replayed
and stay in the DLQ; 2 bad arguments; 3 NATS unreachable or not answering, or no DLQ stream there;
4 no entry at a SEQ given (and nothing was done).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TextIO

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from brigade_common.dlq.letters import (
    DLQ_STREAM,
    EVERYTHING,
    DeadLetter,
    get_dead_letter,
    original_message,
    read_dead_letters,
    remove_dead_letter,
)
from brigade_common.dlq.render import group, list_json, list_text, replay_line, show_json, show_text
from brigade_common.dlq.replay import Outcome, replay, select
from brigade_common.logging import configure_logging, get_logger

log = get_logger(__name__)

LOCAL_NATS = "nats://127.0.0.1:4222"
EXIT_OK, EXIT_INCOMPLETE, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_NOT_FOUND = 0, 1, 2, 3, 4


class CliError(Exception):
    """A failure the operator can act on: printed as one line, with its exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _seq(text: str) -> int:
    try:
        seq = int(text)
    except ValueError:
        seq = 0
    if seq <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a DLQ sequence (a positive number, as `list` shows)")
    return seq


def parse(argv: Sequence[str], default_url: str = LOCAL_NATS) -> argparse.Namespace:
    """The command line; bad arguments exit with the usage and code 2, as argparse does."""
    # Given before or after the command: the command's copy wins, the top level's is the default.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--nats-url", default=argparse.SUPPRESS, help=f"NATS server (default {default_url})")
    p = argparse.ArgumentParser(prog="python -m brigade_common.dlq", description="The dead-letter stream (DLQ).")
    p.add_argument("--nats-url", default=default_url, help=f"NATS server (default {default_url})")
    p.add_argument("--log-format", choices=("console", "json"), default="console", help="how replays are logged")
    commands = p.add_subparsers(dest="command", required=True, metavar="{list,show,replay,drop}")
    ls = commands.add_parser("list", parents=[common], help="entries grouped by consumer and error")
    ls.add_argument("--consumer", help="only this consumer's entries")
    ls.add_argument("--error", help="only entries whose error contains this text (any case)")
    ls.add_argument("--json", action="store_true", help="JSON for scripts")
    show = commands.add_parser("show", parents=[common], help="one entry in full")
    show.add_argument("seq", type=_seq, metavar="SEQ")
    show.add_argument("--json", action="store_true", help="JSON for scripts")
    rp = commands.add_parser("replay", parents=[common], help="publish entries back to their original subject")
    rp.add_argument("seqs", type=_seq, nargs="*", metavar="SEQ")
    rp.add_argument("--consumer", help="every entry of this consumer")
    rp.add_argument("--error", help="every entry (of --consumer) whose error contains this text (any case)")
    rp.add_argument("--dry-run", action="store_true", help="say what would be replayed, send nothing")
    drop = commands.add_parser("drop", parents=[common], help="delete entries someone dealt with by hand")
    drop.add_argument("seqs", type=_seq, nargs="+", metavar="SEQ")
    args = p.parse_args(argv)
    if args.command == "replay" and bool(args.seqs) == bool(args.consumer or args.error):
        rp.error("give either SEQ… or a selection (--consumer NAME and/or --error TEXT)")
    return args


async def run(argv: Sequence[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Parse `argv` and run the command against NATS; the exit code."""
    return await execute(parse(argv), out, err)


async def execute(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run parsed `args`; failures the operator can act on are one line on `err`, never a traceback."""
    url = str(args.nats_url)
    try:
        nc = await _connect(url)
        try:
            js = nc.jetstream()
            await _require_dlq(js, url)
            return await COMMANDS[args.command](js, args, out)
        finally:
            await nc.close()
    except CliError as exc:
        print(f"dlq: {exc}", file=err)
        return exc.code
    except nats.errors.TimeoutError:
        print(f"dlq: NATS at {url} did not answer in time; try again, or check the server", file=err)
        return EXIT_UNAVAILABLE
    except nats.errors.Error as exc:
        print(f"dlq: NATS at {url} failed: {_reason(exc)}", file=err)
        return EXIT_UNAVAILABLE


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m brigade_common.dlq`: configure logging, run, exit."""
    args = parse(sys.argv[1:] if argv is None else argv, os.environ.get("NATS_URL") or LOCAL_NATS)
    configure_logging("dlq", fmt=args.log_format)
    try:
        return asyncio.run(execute(args))
    except KeyboardInterrupt:
        print("dlq: interrupted", file=sys.stderr)
        return 130


async def _connect(url: str) -> NATS:
    errors: list[Exception] = []

    async def remember(exc: Exception) -> None:
        errors.append(exc)

    try:
        # One quick try, no reconnecting: a human is waiting (nats-py's 0 would mean "retry for ever").
        return await nats.connect(
            url,
            name="brigade-dlq",
            connect_timeout=3,
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0.2,
            error_cb=remember,
        )
    except (nats.errors.Error, OSError) as exc:
        why = _reason(errors[-1] if errors else exc)
        raise CliError(
            f"cannot reach NATS at {url} ({why}). Is the stack running (`make up`)? "
            "Otherwise pass --nats-url or set NATS_URL.",
            EXIT_UNAVAILABLE,
        ) from None


async def _require_dlq(js: JetStreamContext, url: str) -> None:
    try:
        await js.stream_info(DLQ_STREAM)
    except nats.js.errors.NotFoundError:
        raise CliError(
            f"no {DLQ_STREAM} stream at {url}: the services create it when they start, so nothing "
            "was dead-lettered there (is this the right server?)",
            EXIT_UNAVAILABLE,
        ) from None
    except nats.errors.NoRespondersError:
        raise CliError(f"JetStream does not answer at {url} (is it enabled?)", EXIT_UNAVAILABLE) from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return str(exc) or type(exc).__name__


async def _list(js: JetStreamContext, args: argparse.Namespace, out: TextIO) -> int:
    letters = select(await read_dead_letters(js, EVERYTHING, limit=None), consumer=args.consumer, error=args.error)
    groups = group(letters)
    if args.json:
        _dump(list_json(groups), out)
    else:
        out.write(list_text(groups, _scope(args)))
    return EXIT_OK


async def _show(js: JetStreamContext, args: argparse.Namespace, out: TextIO) -> int:
    [letter] = await _entries(js, [args.seq])
    original = await original_message(js, letter) if letter.advisory else None
    if args.json:
        _dump(show_json(letter, original), out)
    else:
        out.write(show_text(letter, original))
    return EXIT_OK


async def _replay(js: JetStreamContext, args: argparse.Namespace, out: TextIO) -> int:
    if args.seqs:
        letters = await _entries(js, args.seqs)
    else:
        everything = await read_dead_letters(js, EVERYTHING, limit=None)
        letters = select(everything, consumer=args.consumer, error=args.error)
    if not letters:
        out.write(f"nothing to replay: no entry in the DLQ at {_scope(args)}\n")
        return EXIT_OK
    results = [await replay(js, letter, dry_run=args.dry_run) for letter in letters]
    for result in results:
        out.write(replay_line(result) + "\n")
    counts = {o: sum(r.outcome is o for r in results) for o in Outcome}
    left = counts[Outcome.GONE] + counts[Outcome.FAILED]
    if args.dry_run:
        out.write(f"dry run: {counts[Outcome.PLANNED]} would be replayed, {left} could not be; nothing was sent\n")
    else:
        out.write(
            f"{counts[Outcome.REPLAYED]} replayed, {counts[Outcome.DUPLICATE]} replayed already, "
            f"{left} left in the DLQ\n"
        )
    if counts[Outcome.GONE]:
        out.write("an advisory whose original is gone cannot be replayed: `drop SEQ` once it is dealt with\n")
    return EXIT_INCOMPLETE if left else EXIT_OK


async def _drop(js: JetStreamContext, args: argparse.Namespace, out: TextIO) -> int:
    for letter in await _entries(js, args.seqs):
        removed = await remove_dead_letter(js, letter.seq)
        envelope = letter.envelope
        log.info(
            "dlq_dropped",
            consumer=letter.consumer,
            original_subject=letter.original_subject,
            envelope_id=envelope.id if envelope else None,
            dlq_seq=letter.seq,
            error=letter.error,
        )
        out.write(f"{'dropped' if removed else 'gone already'} {letter.seq}\n")
    return EXIT_OK


async def _entries(js: JetStreamContext, seqs: Sequence[int]) -> list[DeadLetter]:
    """The entries at `seqs` (each once, in order), or a CliError naming those that are not there."""
    wanted = list(dict.fromkeys(seqs))
    found = {seq: await get_dead_letter(js, seq) for seq in wanted}
    missing = [str(seq) for seq, letter in found.items() if letter is None]
    if missing:
        raise CliError(
            f"no entry {', '.join(missing)} in the DLQ (replayed, dropped or expired already, or never "
            "there: `list` shows what is); nothing was done",
            EXIT_NOT_FOUND,
        )
    return [letter for letter in found.values() if letter is not None]


def _scope(args: argparse.Namespace) -> str:
    parts = [f"consumer {args.consumer}"] if getattr(args, "consumer", None) else []
    parts += [f"error containing {args.error!r}"] if getattr(args, "error", None) else []
    return str(args.nats_url) + (f" ({', '.join(parts)})" if parts else "")


def _dump(doc: dict[str, Any], out: TextIO) -> None:
    json.dump(doc, out, indent=2)
    out.write("\n")


Command = Callable[[JetStreamContext, argparse.Namespace, TextIO], Awaitable[int]]
COMMANDS: dict[str, Command] = {"list": _list, "show": _show, "replay": _replay, "drop": _drop}
