"""Statistics shared by tasks, comparisons and reports: paired tests of two variants scored on
the same examples, bootstrap intervals, and corrections for many tests at once."""
