"""The one exception tree of joulebench.

Every error a user can cause is a :class:`JoulebenchError`. Its message is one line that
names the input and says how to fix it; the CLI prints it and exits with ``exit_code``.
Vendor exceptions (pynvml, OSError from sysfs) are translated into these at the adapter.
"""

from __future__ import annotations


class JoulebenchError(Exception):
    """Base of every joulebench error. ``str(err)`` is one line: what, which input, the fix."""

    exit_code: int = 1


class UserError(JoulebenchError):
    """A bad argument, setting or file given by the user."""


class DeviceError(JoulebenchError):
    """An energy meter could not be used or gave a reading that cannot be trusted."""


class MeterUnavailableError(DeviceError):
    """The meter asked for cannot measure on this machine (the message says why and the fix)."""


class InvalidReadingError(DeviceError):
    """A counter gave a value that is not a number, is negative, NaN, or went backwards."""


class InvalidWindowError(DeviceError):
    """One measurement window cannot be trusted (counter stalled, gap too long to unwrap, ...).

    The harness discards such a window, records why, and measures another one.
    """


class WorkloadError(JoulebenchError):
    """The measured workload (a callable or a command) raised or failed."""


class MeasurementError(JoulebenchError):
    """The measurement as a whole cannot give a trustworthy figure (e.g. too many bad windows)."""


class ResultsError(JoulebenchError):
    """A results file or folder cannot be written or read."""


class SchemaVersionError(ResultsError):
    """A results file has a schema version this joulebench does not know."""


class VariantError(JoulebenchError):
    """A model variant cannot be loaded, built or run (missing folder, corrupt weights, ...)."""
