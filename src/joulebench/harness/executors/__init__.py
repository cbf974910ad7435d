"""Where an experiment runs: one machine's share of it is a :class:`~.job.Job`.

``local`` is today's runner (``joulebench run`` without ``--executor``); ``ray`` sends one
job per target to a machine of a Ray cluster that advertises a ``joulebench_slot``, so at
most one measurement runs per machine (``ray_executor``). Interleaving stays inside a job:
the windows of two machines are never compared as if they were interleaved. This package
never imports ray at import time.
"""
