"""Python's cyclic garbage collector runs in the GUI thread only, on a timer, while the app runs.

Left automatic, a collection runs in whichever thread happens to allocate when a threshold is passed:
often a training or live-diagnostics thread. If that collection frees Qt objects (an old dialog's
wrappers, a closed window's menus), PySide destroys them under Qt's object locks and needs the GIL
to look up Python overrides, while the GUI thread, holding the GIL, waits for the same lock to delete
widgets PySide handed back to it: both wait for ever. Seen in this project's CI: the suite stopped
in test_live_diagnostics_plot_and_collapse_banner with the live-diagnostics thread in
gc_collect_main -> QObject::~QObject -> GilState::acquire and the GUI thread in QMenu::~QMenu ->
QBasicMutex::lockInternal (py-spy dump). pyqtgraph's GarbageCollector does exactly this job (it
disables the automatic collector and collects generation by generation from a QTimer), so it is
used rather than written again.

Once the app's window is built, every object alive (about 250,000: torch's, Qt's, the panels') is
moved to the collector's permanent generation (`gc.freeze`), where collections no longer walk it:
they live as long as the process. Measured here with the window built and a model open: a
generation-2 collection took 214-241 ms on the GUI thread before, 0.2 ms after. pyqtgraph's
collector runs one after every ten generation-1 collections, so before it the window froze for a
quarter of a second every minute or two while a model trained or a slider moved.
"""

from __future__ import annotations

import gc

_collector = None
_kept = False


def collect_in_gui_thread() -> None:
    """Start collecting on the calling (GUI) thread's timer; once per process."""
    global _collector
    if _collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _collector = GarbageCollector(interval=1.0)


def keep_startup_objects() -> None:
    """Exempt every object alive now from future collections (see the module docstring): called once
    the window is built and before a model opens, so what a model brings is collected as before.
    Once per process: a later call would keep the models open by then for ever."""
    global _kept
    if not _kept:
        gc.freeze()
        _kept = True
