"""The tracker in a process of its own, beside the process that fits.

Importing MLflow and opening a store cost about a second of CPU; logging the chosen model
and drawing the report's plots cost about as much again. Done by the process that fits the
arms, all of it lies on a run's critical path; on a machine with a core to spare, none of
it needs to. A :class:`TrackingProcess` is a child process that imports MLflow while its
parent reads the data and plans (:func:`prestart`), opens a store when asked
(:func:`remote_tracker`), and then runs every :class:`~tuneworth.tracking.Tracker` call
made through the :class:`RemoteTracker` it returns, one at a time, in the order they were
made, returning each result, or raising each error, in the parent as if the call had run
there. :class:`tuneworth.study_log.StudyLog` makes those calls on its writer thread, so the
fitting never waits for them; once the work has started (:func:`warm_up`), the child
imports what the end of a study needs (MLflow's scikit-learn flavour, skops, matplotlib)
whenever it has no call to run.

One such process serves every study of its parent, one after another or side by side (a
notebook's second run starts with MLflow loaded), until the parent exits. It ignores SIGINT,
so that a parent interrupted by Ctrl-C can still end its studies through it, and exits when
the parent closes it or is gone. An error it cannot send back as it is arrives as a
:class:`~tuneworth.tracking.StoreError` with the same text; a process that died (killed, out
of memory) is a :class:`~tuneworth.tracking.StoreError` too, its studies are left RUNNING
(the next run of their spec marks them FAILED, as after a killed parent), and the next
study starts a new process.
"""

from __future__ import annotations

import atexit
import gc
import itertools
import multiprocessing
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuneworth.tracking import Tracker

# Only the standard library at import: what a parent imports for its child is chosen here.

# Imported by a parent about to fork the child, which inherits them: what both need
# (pandas, numpy, scikit-learn, the tracker's own code), imported once instead of twice.
# The child's own work (MLflow's imports, the writes, the report, the model) takes about
# as long as the parent's on a small table; these would add 0.7 s to it.
_INHERITED = ("tuneworth.tracking", "sklearn.pipeline")
# Imported by the child as soon as it starts: what opening a store needs (a database
# store's code is most of the time MLflow takes to open one).
_OPENING = (
    "tuneworth.tracking",
    "mlflow",
    "mlflow.tracking",
    "mlflow.store.tracking.sqlalchemy_store",
    "tuneworth.checkpoint",
)
# Imported by the child while it has nothing else to do, once the work has started
# (warm_up): what logging the model and writing the report need (then a model is logged
# once as a rehearsal).
_FINISHING = (
    "sklearn.pipeline",
    "mlflow.sklearn",
    "mlflow.pyfunc.scoring_server",  # MLflow checks that a logged model serves
    "skops.io",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "tuneworth.report",
    "tuneworth.plots",
)
# The attributes of a Tracker its proxy mirrors after every call.
_MIRRORED = ("uri", "experiment_id", "study_run_id")


class TrackingProcess:
    """A child process that runs functions for its parent, one at a time, in call order."""

    def __init__(self) -> None:
        fork = _forkable()
        if fork:
            # The child then imports MLflow alone while this process reads data and plans.
            _prepare(_INHERITED)
        context: Any = multiprocessing.get_context("fork" if fork else "spawn")
        self._connection, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, os.getpid()), name="tuneworth-tracking", daemon=True
        )
        self._process.start()
        child.close()
        self._lock = threading.Lock()
        self._calls = 0
        # Answers read while waiting for another's: a call whose caller was interrupted
        # leaves its answer here.
        self._answers: dict[int, tuple[bool, Any]] = {}

    @property
    def alive(self) -> bool:
        return bool(self._process.is_alive())

    def call(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` run in the child: its result, or its error raised.

        ``function`` must be importable by name (a module-level function); its arguments and
        its result cross the process boundary pickled. Thread-safe: calls from several
        threads run one after another.
        """
        return self.result(self.submit(function, *args, **kwargs))

    def submit(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> int:
        """Send the call :meth:`call` makes without waiting for it: its number, for
        :meth:`result`."""
        with self._lock:
            self._calls += 1
            try:
                self._connection.send((self._calls, function, args, kwargs))
            except OSError as exc:
                raise self._gone() from exc
            return self._calls

    def result(self, number: int) -> Any:
        """The answer to the call ``number`` (:meth:`submit`): its result, or its error."""
        with self._lock:
            try:
                while number not in self._answers:
                    answered, ok, value = self._connection.recv()
                    self._answers[answered] = ok, value
            except (EOFError, OSError) as exc:
                raise self._gone() from exc
            ok, value = self._answers.pop(number)
        if not ok:
            raise value
        return value

    def _gone(self) -> Exception:
        from tuneworth.tracking import StoreError

        return StoreError(
            f"the tracking process ended unexpectedly ({_exit_reason(self._process)}); "
            "run again: the next run of this spec resumes the study"
        )

    def close(self, timeout: float = 0.5) -> None:
        """Stop the child once the call at hand is answered; kill it if it has not exited
        ``timeout`` seconds later (it may be importing modules: nothing is written then),
        or at once if it was never called (a command that failed before opening a store)."""
        with self._lock:
            with suppress(OSError):
                self._connection.send(None)
            self._process.join(timeout if self._calls else 0)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(5)
            self._connection.close()


class RemoteTracker:
    """A :class:`~tuneworth.tracking.Tracker` living in a :class:`TrackingProcess`.

    Every public method of :class:`~tuneworth.tracking.Tracker` is called as on the tracker
    itself and runs in the process; ``uri``, ``experiment_id`` and ``study_run_id`` mirror
    the tracker's after each call.
    """

    uri: str
    experiment_id: str
    study_run_id: str

    def __init__(self, process: TrackingProcess, uri: str, wait: bool = True) -> None:
        self._process = process
        self.uri, self.experiment_id, self.study_run_id = uri, "", ""
        self._lock = threading.Lock()
        self._key = -1
        self._failed: BaseException | None = None
        self._opening: int | None = process.submit(_open, uri, os.getpid())
        if wait:
            self._opened()

    def _opened(self) -> int:
        """The tracker's key in the process, once it is made: a store that cannot be used
        raises here, and at every later call."""
        with self._lock:
            if self._opening is not None:
                number, self._opening = self._opening, None
                try:
                    self._key, attributes = self._process.result(number)
                except BaseException as exc:
                    self._failed = exc
                    raise
                self._mirror(attributes)
            if self._failed is not None:
                raise self._failed
            return self._key

    def _mirror(self, attributes: dict[str, str]) -> None:
        for name in _MIRRORED:
            setattr(self, name, attributes[name])

    def __getattr__(self, name: str) -> Callable[..., Any]:
        from tuneworth.tracking import Tracker

        if name.startswith("_") or not callable(getattr(Tracker, name, None)):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

        def method(*args: Any, **kwargs: Any) -> Any:
            return self.apply(_call, name, *args, **kwargs)

        method.__name__ = name
        return method

    def apply(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """``function(tracker, *args, **kwargs)`` with the tracker, run in its process."""
        result, attributes = self._process.call(_apply, self._opened(), function, args, kwargs)
        self._mirror(attributes)
        return result

    def abort(self, status: str = "KILLED", cause: BaseException | None = None) -> str | None:
        """:meth:`~tuneworth.tracking.Tracker.abort`, which never raises for the store: nor
        for a tracking process that is gone."""
        from tuneworth.tracking import StoreError

        # The cause as its text, which is all abort reads of it: any exception pickles so.
        stand_in = None if cause is None else Exception(str(cause))
        try:
            self._opened()
        except StoreError:
            return None  # the store was never opened: nothing to end
        try:
            result: str | None = self.__getattr__("abort")(status, stand_in)
        except StoreError as exc:
            return (
                f"study run {self.study_run_id} is left RUNNING ({exc}); the next run of this "
                "spec on this machine marks it FAILED"
            )
        return result

    def close(self) -> None:
        """Let the process forget the tracker."""
        with suppress(Exception):
            self._process.call(_forget, self._opened())


_shared: TrackingProcess | None = None
_shared_lock = threading.Lock()


def prestart() -> None:
    """Start this process's tracking process now, if it is not running, so that it imports
    MLflow while this process reads data and plans: for a command, which exits when its
    work ends.

    Before a fork, the libraries both processes need are imported and frozen
    (:func:`gc.freeze`), as Python advises for a fork without exec: the child's garbage
    collections then never write to, and so never copy, the memory it shares with this
    process, and this process's never walk those objects again (importing them leaves no
    garbage, and they live until the command ends).
    """
    if _shared is None and _forkable():
        _prepare(_INHERITED)
        gc.freeze()
    _shared_process()


def _forkable() -> bool:
    """Whether a new tracking process can be forked: on Linux, with no other thread that
    could hold a lock and no MLflow store whose connections the child would share; else it
    is a fresh interpreter."""
    return sys.platform == "linux" and threading.active_count() == 1 and "mlflow" not in sys.modules


def _shared_process() -> TrackingProcess:
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.alive:
            first, _shared = _shared is None, TrackingProcess()
            if first:
                # After the start, which imports multiprocessing's own exit handler: this
                # one, registered later, runs first and stops the child before that one
                # waits for it.
                atexit.register(_close_shared)
        return _shared


def _close_shared() -> None:
    global _shared
    if _shared is not None:
        _shared.close()
        _shared = None


@contextmanager
def remote_tracker(uri: str, wait: bool = True) -> Iterator[RemoteTracker]:
    """A :class:`RemoteTracker` of the store at ``uri`` (probed when it is made, as a
    :class:`~tuneworth.tracking.Tracker` probes it), in this process's tracking process.

    Its files are checked here at once (:func:`~tuneworth.tracking.check_store_files`);
    without ``wait``, the store is opened while the caller goes on, and a problem only
    MLflow finds (a database it has not migrated, a server that is not MLflow's) raises at
    the tracker's first call.
    """
    from tuneworth.tracking import check_store_files

    check_store_files(uri)
    tracker = RemoteTracker(_shared_process(), uri, wait)
    try:
        yield tracker
    finally:
        tracker.close()


# What runs in the child.

_trackers: dict[int, Tracker] = {}
_keys = itertools.count()
_warming = False  # whether to prepare the end of a study while idle (warm_up)


def _serve(connection: Any, parent: int) -> None:
    """The child's loop: run each call received and send back its answer, until told to
    stop or the parent is gone."""
    # Ctrl-C reaches the whole process group: the parent, which handles it, ends its
    # studies through this process, which must live until then.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from tuneworth.evaluate import exit_with_parent

    exit_with_parent(parent)
    _prepare(_OPENING, frozen=True)
    finishing: list[str | Callable[[], None]] = [*_FINISHING, _rehearse]
    while True:
        try:
            if _warming and finishing and not connection.poll():
                _prepare([finishing.pop(0)], frozen=True)
                continue
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        number, function, args, kwargs = message
        try:
            answer = (number, True, function(*args, **kwargs))
        except BaseException as exc:
            answer = (number, False, _sendable(exc))
        try:
            connection.send(answer)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            from tuneworth.tracking import StoreError

            connection.send((number, False, StoreError(f"{type(exc).__name__}: {exc}")))
        except OSError:
            return


def _prepare(steps: Sequence[str | Callable[[], None]], frozen: bool = False) -> None:
    """Import each module named, or run each step given.

    ``frozen`` (in the child, whose heap is its own): an import runs without the garbage
    collector, and what it loaded is then frozen (:func:`gc.freeze`). Modules live until
    the process ends, importing them leaves no garbage, and the collections an import of
    MLflow, skops or matplotlib would trigger walk every object loaded before (a fifth of
    the time of importing them).
    """
    for step in steps:
        # What fails here fails again, with its error, where it is needed.
        with suppress(Exception):
            if callable(step):
                step()
                continue
            if frozen:
                gc.disable()
            try:
                dir(import_module(step))  # loads a module MLflow imports lazily (a flavour)
            finally:
                if frozen:
                    gc.freeze()
                    gc.enable()


def warm_up(tracker: Tracker | RemoteTracker) -> None:
    """Let the tracking process of ``tracker`` import what the end of a study needs (MLflow's
    scikit-learn flavour, skops, matplotlib), one module at a time, whenever it has no call
    to run; nothing for a tracker in this process.

    For when the work starts: the calls made before it, which the work waits for (opening
    the study, reading its checkpoint), are then not held up by an import; those made
    during it are writes that it does not wait for.
    """
    if isinstance(tracker, RemoteTracker):
        tracker._process.call(_warm_up)


def _warm_up() -> None:
    global _warming
    _warming = True


def _rehearse() -> None:
    from tuneworth.tracking import rehearse_model_logging

    rehearse_model_logging()


def _sendable(exc: BaseException) -> BaseException:
    """``exc`` if the parent can rebuild it (pickled, an exception is rebuilt from its type
    and ``args``), else a :class:`StoreError` with its text."""
    try:
        pickle.dumps(exc)
        type(exc)(*exc.args)
    except Exception:
        from tuneworth.tracking import StoreError

        return StoreError(str(exc).strip() or type(exc).__name__)
    return exc


def _attributes(tracker: Tracker) -> dict[str, str]:
    return {name: getattr(tracker, name) for name in _MIRRORED}


def _open(uri: str, owner: int) -> tuple[int, dict[str, str]]:
    from tuneworth.tracking import Tracker

    tracker = Tracker(uri, owner=owner)
    key = next(_keys)
    _trackers[key] = tracker
    return key, _attributes(tracker)


def _call(tracker: Tracker, name: str, /, *args: Any, **kwargs: Any) -> Any:
    """The tracker's method ``name`` called with the arguments."""
    return getattr(tracker, name)(*args, **kwargs)


def _apply(
    key: int, function: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, dict[str, str]]:
    tracker = _trackers[key]
    return function(tracker, *args, **kwargs), _attributes(tracker)


def _forget(key: int) -> None:
    _trackers.pop(key, None)


def _exit_reason(process: Any) -> str:
    process.join(1)
    code = process.exitcode
    if code is None:
        return "it stopped answering"
    if code < 0:
        with suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"
