"""Long tasks: progress and results arrive in the GUI thread, a new task never waits for the old one,
and the old one's late result is ignored."""

import threading

from genstudio.core.requests.tasks import TaskState
from genstudio.ui.jobs import shutdown_all
from genstudio.ui.task_runner import TaskRunner


def test_a_new_task_does_not_wait_for_the_old_one(qtbot):
    runner = TaskRunner()
    release = threading.Event()
    first_running = threading.Event()
    results = []
    runner.done.connect(results.append)

    def stuck(state: TaskState):
        first_running.set()
        release.wait(30)              # ignores cancellation on purpose, like a long C call
        return "first"

    def quick(state: TaskState):
        state.set_progress(0.5, "half")
        return "second"

    runner.start(stuck)
    assert first_running.wait(10)
    with qtbot.waitSignal(runner.progress, timeout=10000) as progress:
        with qtbot.waitSignal(runner.done, timeout=10000):
            runner.start(quick)       # returns at once: the stuck task is still running
            assert not release.is_set()
    assert progress.args == [0.5, "half"] and results == ["second"]
    release.set()
    assert shutdown_all(10)
    qtbot.wait(50)                    # let any late signal of the first task arrive
    assert results == ["second"] and not runner.busy


def test_failure_and_cancel_are_reported(qtbot):
    runner = TaskRunner()
    with qtbot.waitSignal(runner.failed, timeout=10000) as failed:
        runner.start(lambda state: 1 / 0)
    assert failed.args == ["division by zero"]
    started = threading.Event()

    def polite(state: TaskState):
        started.set()
        pause = threading.Event()
        while not state.is_interruption_requested():
            pause.wait(0.01)
        state.check("waiting")

    runner.start(polite)
    assert started.wait(10)
    with qtbot.waitSignal(runner.cancelled, timeout=10000):
        runner.cancel()
    assert not runner.busy
    runner.shutdown()
    assert shutdown_all(10)
