"""Results across commits: series, the steps in them, a gate against the recent past.

``series``: one point per run per (machine, energy method, variant, metric), ordered by the
commit each run measured (``provenance``), with idle power as a series of its own;
``steps``: where a series moved, weighted by each point's interval; ``gate``: a candidate run
against the last N runs of the same machine and method; ``page``: the HTML page;
``export``: Bencher's metric format.
"""
