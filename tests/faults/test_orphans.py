"""Item 6: decoder processes (and multiprocessing's resource tracker) end when their writer dies, kill -9 included."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.faults.conftest import avro, users
from tests.waiting import wait_for

WRITER = """
import multiprocessing, sys
from multiprocessing import resource_tracker
from core.decode import DecodeJob, DecodeSpec, decode_files

events = decode_files([DecodeJob(sys.argv[1], "application/avro", "k", "users.avro")],
                      DecodeSpec(("user_id",), None), parallel=True)
next(events)  # the decoders are running and will soon block on their full queues
helpers = [child.pid for child in multiprocessing.active_children()] + [resource_tracker._resource_tracker._pid]
print(" ".join(str(pid) for pid in helpers if pid), flush=True)
sys.stdin.read()  # a writer that never reads again, until it is killed
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended; only its parent may reap it
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def test_no_decoder_outlives_a_killed_writer(tmp_path: Path) -> None:
    path = tmp_path / "users.avro"
    path.write_bytes(avro(users(range(1, 60_001))))
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        line = writer.stdout.readline() if writer.stdout else ""
        helpers = [int(pid) for pid in line.split()]
        assert len(helpers) >= 3, line  # two decoders at least, and the resource tracker
        assert all(_alive(pid) for pid in helpers)

        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)

        # The helpers watch their writer and exit at once. Wait on that state, not a clock: a hang
        # (a helper that never notices) fails at the suite's ceiling instead of a busy machine's 5 s.
        wait_for(lambda: not any(_alive(pid) for pid in helpers), "the writer's helpers to end")
        assert [pid for pid in helpers if _alive(pid)] == []
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait(timeout=30)
