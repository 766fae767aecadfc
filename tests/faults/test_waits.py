"""The tests' waits (``tests/conftest.py``): on an event, and a wait that ends without it is a
failure saying what was awaited and what was last seen, never a TypeError further on."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.conftest import finish, wait_for


def test_a_wait_returns_the_event_as_soon_as_it_happens_and_errors_mean_not_yet():
    began, calls = time.monotonic(), []

    def third_call():
        calls.append(1)
        if len(calls) < 3:
            raise FileNotFoundError("not written yet")
        return {"generation": 3}

    assert wait_for(third_call, "a checkpoint") == {"generation": 3}
    assert time.monotonic() - began < 5


def test_a_wait_that_times_out_says_what_it_waited_for_and_what_it_saw():
    with pytest.raises(pytest.fail.Exception) as failed:
        wait_for(lambda: [], "the checkpoint of generation 3", timeout=0.3)
    message = str(failed.value)
    assert message.startswith("waited 0s for the checkpoint of generation 3; last seen: []")


def test_a_process_that_exits_before_the_event_fails_the_wait_at_once_with_its_stderr():
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.exit('boom: no such study')"],
        stderr=subprocess.PIPE,
    )
    began = time.monotonic()
    with pytest.raises(pytest.fail.Exception) as failed:
        wait_for(lambda: None, "trial 1 to start", proc=proc)
    assert time.monotonic() - began < 300  # at its exit, not at the 600 s limit
    message = str(failed.value)
    assert "exited (1)" in message and "before trial 1 to start" in message
    assert "boom: no such study" in message


def test_a_process_that_does_not_exit_in_time_is_killed_and_its_stderr_shown():
    code = "import sys, time; print('epoch 7', file=sys.stderr, flush=True); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    with pytest.raises(pytest.fail.Exception) as failed:
        finish(proc, "the study to exit", timeout=0.5)
    assert proc.poll() is not None, "the process is killed, not left behind"
    assert str(failed.value).startswith("waited 0s for the study to exit; stderr ends:")
