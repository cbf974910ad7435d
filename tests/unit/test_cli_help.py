"""Every command's --help prints (a stray % in a help text once crashed `compare --help`)."""

from __future__ import annotations

import argparse

import pytest

from joulebench.cli.main import build_parser, main


def _commands() -> list[str]:
    parser = build_parser()
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(found[0].choices)


def _help(command: str) -> int:
    try:
        return main([command, "--help"])
    except SystemExit as stop:
        return int(stop.code or 0)


@pytest.mark.parametrize("command", _commands())
def test_every_command_prints_its_help(command, capsys):
    assert _help(command) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: joulebench") and command in out


def test_compare_help_shows_the_default_thresholds(capsys):
    assert _help("compare") == 0
    assert "energy_j:+5%" in capsys.readouterr().out.replace("\n", " ").replace("  ", "")
