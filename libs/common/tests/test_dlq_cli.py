"""`python -m brigade_common.dlq` against a real nats-server: what an operator reads and selects."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from brigade_common.devservers import free_port
from brigade_common.dlq import cli, dead_letter, read_dead_letters
from brigade_common.envelope import Envelope
from brigade_common.jetstream import ensure_stream, stream_config
from brigade_contracts.streams import DLQ

ROOT = Path(__file__).resolve().parents[3]
SUBJECT = "test.note.added.v1"
POISON = "Poison: no dish called 'tarta' today"
GAVE_UP = "gave up after 8 deliveries: ConnectionRefusedError(111, 'Connection refused')"
GARBAGE = b"\x1b[31mred\x00\xff"  # bytes a terminal must never receive raw
BAD_ENVELOPE = "invalid envelope: Invalid JSON at \x1b[2J"


async def dead_letters(js: JetStreamContext) -> list[Envelope]:
    """Five entries from two consumers, written the way the runner writes them: DLQ seqs 1-5 are
    notes/poison, audits/gave-up, notes/poison, notes/gave-up, audits/binary."""
    await ensure_stream(js, stream_config("TEST", ["test.>"]))
    await ensure_stream(js, stream_config(DLQ.name, DLQ.subjects, max_age_s=DLQ.max_age_s))
    envelopes = [Envelope.wrap(SUBJECT, {"text": text}) for text in ("tarta", "flan", "tarta", "sopa")]
    for env in envelopes:
        await js.publish(SUBJECT, env.to_bytes(), headers=env.headers())
    await js.publish("test.garbage", GARBAGE)
    peek = await js.pull_subscribe("test.>", durable="peek", stream="TEST")
    msgs = await peek.fetch(5)
    for msg, (consumer, error) in zip(
        msgs,
        [("notes", POISON), ("audits", GAVE_UP), ("notes", POISON), ("notes", GAVE_UP), ("audits", BAD_ENVELOPE)],
        strict=True,
    ):
        await dead_letter(js, msg, context="test", consumer=consumer, error=error)
    return envelopes


async def dlq(nats_url: str, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await cli.run(["--nats-url", nats_url, *argv], out, err)
    return code, out.getvalue(), err.getvalue()


def without_times(text: str) -> str:
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ"
    return re.sub(f"{stamp}( … {stamp})?", "<time>", text)


async def test_list_groups_the_dlq_by_consumer_and_error(nc: NATS, nats_url: str) -> None:
    await dead_letters(nc.jetstream())
    code, out, _ = await dlq(nats_url, "list")
    assert code == cli.EXIT_OK
    assert without_times(out) == "\n".join(
        [
            f"5 in the DLQ at {nats_url}, from 2 consumers",
            "",
            "audits",
            f"  1  {GAVE_UP}",
            "     <time>   seq 2",
            "  1  invalid envelope: Invalid JSON at \\x1b[2J",
            "     <time>   seq 5",
            "notes",
            f"  2  {POISON}",
            "     <time>   seq 1, 3",
            f"  1  {GAVE_UP}",
            "     <time>   seq 4",
            "",
            "show SEQ: one entry · replay SEQ… | replay --consumer NAME [--error TEXT] (try --dry-run)",
            "",
        ]
    )

    code, out, _ = await dlq(nats_url, "list", "--json")
    doc = json.loads(out)
    assert doc["total"] == 5
    assert [(g["consumer"], g["error"], g["kind"], g["count"], g["seqs"]) for g in doc["groups"]] == [
        ("audits", GAVE_UP, "dead_letter", 1, [2]),
        ("audits", BAD_ENVELOPE, "dead_letter", 1, [5]),
        ("notes", POISON, "dead_letter", 2, [1, 3]),
        ("notes", GAVE_UP, "dead_letter", 1, [4]),
    ]
    assert all(g["oldest"] <= g["newest"] for g in doc["groups"])

    code, out, _ = await dlq(nats_url, "list", "--consumer", "notes", "--error", "REFUSED")
    assert without_times(out).splitlines()[:5] == [
        f"1 in the DLQ at {nats_url} (consumer notes, error containing 'REFUSED'), from 1 consumer",
        "",
        "notes",
        f"  1  {GAVE_UP}",
        "     <time>   seq 4",
    ]


async def test_show_prints_one_entry_with_its_envelope_and_binary_safely(nc: NATS, nats_url: str) -> None:
    [tarta, *_] = await dead_letters(nc.jetstream())
    code, out, _ = await dlq(nats_url, "show", "1")
    assert code == cli.EXIT_OK
    lines = out.splitlines()
    assert re.fullmatch(r"DLQ seq 1 · dead letter · \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", lines[0])
    assert lines[1:5] == [
        "consumer  notes   (dlq.test.notes)",
        f"error     {POISON}",
        f"original  {SUBJECT} · stream TEST seq 1",
        f"envelope  id {tarta.id} · type {SUBJECT} · correlation {tarta.correlation_id}",
    ]
    assert "  Nats-Msg-Id: dlq:TEST:1" in lines
    assert '  "data": {\n    "text": "tarta"\n  }' in out  # the envelope, pretty-printed

    code, out, _ = await dlq(nats_url, "show", "5")
    assert code == cli.EXIT_OK
    assert "\x1b" not in out
    assert "\x00" not in out
    assert "error     invalid envelope: Invalid JSON at \\x1b[2J" in out
    assert "(not text: the first 10 of 10 bytes in hex)" in out
    assert "0000  1b 5b 33 31 6d 72 65 64 00 ff" in out

    code, out, _ = await dlq(nats_url, "show", "5", "--json")
    doc = json.loads(out)
    assert (doc["consumer"], doc["error"], doc["original"]["subject"]) == ("audits", BAD_ENVELOPE, "test.garbage")
    assert base64.b64decode(doc["message"]["base64"]) == GARBAGE
    code, out, _ = await dlq(nats_url, "show", "1", "--json")
    assert json.loads(out)["message"]["json"]["id"] == tarta.id

    code, out, err = await dlq(nats_url, "show", "99")
    assert (code, out) == (cli.EXIT_NOT_FOUND, "")
    assert err.startswith("dlq: no entry 99 in the DLQ (replayed, dropped or expired already")


async def test_replay_selects_by_consumer_and_error_and_leaves_the_rest(nc: NATS, nats_url: str) -> None:
    js = nc.jetstream()
    [tarta, _, tarta_again, _] = await dead_letters(js)
    code, out, _ = await dlq(nats_url, "replay", "--consumer", "notes", "--error", "no dish", "--dry-run")
    assert code == cli.EXIT_OK
    *planned, summary = out.splitlines()
    assert [line.split() for line in planned] == [
        ["would", "replay", "1", "notes", SUBJECT, "envelope", tarta.id],
        ["would", "replay", "3", "notes", SUBJECT, "envelope", tarta_again.id],
    ]
    assert summary == "dry run: 2 would be replayed, 0 could not be; nothing was sent"
    assert len(await read_dead_letters(js)) == 5

    code, out, _ = await dlq(nats_url, "replay", "--consumer", "notes", "--error", "NO DISH")
    assert code == cli.EXIT_OK
    assert out.splitlines()[-1] == "2 replayed, 0 replayed already, 0 left in the DLQ"
    assert [(e.seq, e.consumer, e.error) for e in await read_dead_letters(js)] == [
        (2, "audits", GAVE_UP),
        (4, "notes", GAVE_UP),
        (5, "audits", BAD_ENVELOPE),
    ]
    # Back on the original subject, in the original envelope, under the replay's own id.
    for original_seq, env, replay_seq in ((1, tarta, 6), (3, tarta_again, 7)):
        msg = await js.get_msg("TEST", replay_seq)
        assert (msg.subject, msg.data) == (SUBJECT, env.to_bytes())
        assert msg.headers is not None
        assert msg.headers["Nats-Msg-Id"] == f"replay:TEST:{original_seq}"
        assert msg.headers["Correlation-Id"] == env.correlation_id

    code, out, _ = await dlq(nats_url, "replay", "--consumer", "nobody")
    assert (code, out) == (cli.EXIT_OK, f"nothing to replay: no entry in the DLQ at {nats_url} (consumer nobody)\n")
    for wrong in (["replay"], ["replay", "2", "--consumer", "notes"], ["show", "two"], ["drop"]):
        with pytest.raises(SystemExit) as exit_:
            cli.parse(wrong)
        assert exit_.value.code == cli.EXIT_USAGE


def run_dlq(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "brigade_common.dlq", *argv], capture_output=True, text=True, timeout=60, env=env
    )


async def test_the_command_runs_as_a_process_and_says_what_to_do_when_nats_is_not_there(
    nc: NATS, nats_url: str
) -> None:
    js = nc.jetstream()
    await dead_letters(js)
    listed = await asyncio.to_thread(run_dlq, "--nats-url", nats_url, "list")
    assert listed.returncode == cli.EXIT_OK, listed.stderr
    assert listed.stdout.startswith(f"5 in the DLQ at {nats_url}, from 2 consumers\n")

    replayed = await asyncio.to_thread(run_dlq, "replay", "4", "--nats-url", nats_url)
    assert replayed.returncode == cli.EXIT_OK, replayed.stderr
    assert "dlq_replayed" in replayed.stderr  # the log line, in the process's own logging
    assert "dlq_seq=4" in replayed.stderr

    # `make dlq`, pointed at this server the way an operator points it at theirs.
    env = {**os.environ, "NATS_URL": nats_url}
    made = await asyncio.to_thread(
        subprocess.run, ["make", "-s", "dlq", "ARGS=list --json"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["total"] == 4

    nowhere = f"nats://127.0.0.1:{free_port()}"
    down = await asyncio.to_thread(run_dlq, "--nats-url", nowhere, "list")
    assert down.returncode == cli.EXIT_UNAVAILABLE
    assert down.stdout == ""
    assert down.stderr == (
        f"dlq: cannot reach NATS at {nowhere} (connection refused). Is the stack running (`make up`)? "
        "Otherwise pass --nats-url or set NATS_URL.\n"
    )

    await js.delete_stream("DLQ")
    code, _, err = await dlq(nats_url, "list")
    assert code == cli.EXIT_UNAVAILABLE
    assert err.startswith(f"dlq: no DLQ stream at {nats_url}: the services create it when they start")
