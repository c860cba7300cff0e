"""CoreSlots: how the map hands its cores to the external tools' processes (no more runnable
processes than cores while its own analysis runs, every core once it is done)."""

from __future__ import annotations

import threading

from audit.executor import CoreSlots

WAIT = 5.0  # seconds a thread that should start is given (it starts in milliseconds)
NOT_YET = 0.2  # how long a thread that must not start is watched


class Task(threading.Thread):
    """Holds ``n`` slots from the moment it gets them until ``finish`` is set."""

    def __init__(self, slots: CoreSlots, n: int = 1) -> None:
        super().__init__(daemon=True)
        self.slots, self.n = slots, n
        self.started, self.finish = threading.Event(), threading.Event()

    def run(self) -> None:
        with self.slots.hold(self.n):
            self.started.set()
            self.finish.wait(WAIT * 4)

    def done(self) -> None:
        self.finish.set()
        self.join(WAIT)


def test_no_more_holders_than_slots_until_the_capacity_grows() -> None:
    slots = CoreSlots(1)
    first, second = Task(slots), Task(slots)
    first.start()
    assert first.started.wait(WAIT)
    second.start()
    assert not second.started.wait(NOT_YET)  # one slot, held
    slots.set_capacity(2)  # the map's own analysis is done
    assert second.started.wait(WAIT)
    first.done()
    second.done()


def test_slots_are_granted_in_order_of_request() -> None:
    slots = CoreSlots(1)
    first, second, third = Task(slots), Task(slots), Task(slots)
    first.start()
    assert first.started.wait(WAIT)
    second.start()
    assert not second.started.wait(NOT_YET)
    third.start()
    assert not third.started.wait(NOT_YET)
    first.done()
    assert second.started.wait(WAIT)
    assert not third.started.wait(NOT_YET)  # the slot went to the earlier request
    second.done()
    assert third.started.wait(WAIT)
    third.done()


def test_a_request_for_more_slots_than_exist_runs_alone() -> None:
    slots = CoreSlots(1)
    big, small = Task(slots, n=3), Task(slots)
    big.start()
    assert big.started.wait(WAIT)  # granted although it asks for more than there are: alone
    small.start()
    assert not small.started.wait(NOT_YET)
    big.done()
    assert small.started.wait(WAIT)
    small.done()


def test_a_failing_holder_gives_its_slot_back() -> None:
    slots = CoreSlots(1)
    try:
        with slots.hold():
            raise ValueError("the tool failed")
    except ValueError:
        pass
    after = Task(slots)
    after.start()
    assert after.started.wait(WAIT)
    after.done()
