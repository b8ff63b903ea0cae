"""Bulk work pauses the cyclic garbage collector and always gives it back: nested, in threads, on errors,
and never turns it on where the process had turned it off."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from bot.heap import bulk_work


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_the_collector_is_paused_inside_and_back_after_nested_blocks_and_errors() -> None:
    with bulk_work():
        assert not gc.isenabled()
        with bulk_work():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block still runs
    assert gc.isenabled()

    with pytest.raises(RuntimeError), bulk_work():
        raise RuntimeError("the job failed")
    assert gc.isenabled()


def test_as_a_decorator_each_call_pauses_it() -> None:
    @bulk_work()
    def work() -> bool:
        return gc.isenabled()

    assert work() is False and work() is False
    assert gc.isenabled()


def test_concurrent_blocks_share_one_pause_and_the_last_to_end_gives_it_back() -> None:
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with bulk_work():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    assert inside.wait(5)
    with bulk_work():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread's block still runs
    release.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_process_that_turned_the_collector_off_keeps_it_off() -> None:
    gc.disable()
    with bulk_work():
        pass
    assert not gc.isenabled()
