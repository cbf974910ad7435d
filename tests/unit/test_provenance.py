"""Which code a run measured: git in the working folder, --commit/--branch, or the CI system."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from joulebench.cli.main import main
from joulebench.provenance import BRANCH_ENV, COMMIT_ENV, ci_context, provenance
from joulebench.results.frame import documents

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(folder, *args):
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=folder, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip


@pytest.fixture
def repo(tmp_path):
    git(tmp_path, "init", "-q", "-b", "feature")
    (tmp_path / "model.py").write_text("x = 1\n")
    git(tmp_path, "add", "model.py")
    git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


@needs_git
def test_git_gives_commit_time_branch_and_dirty_state(repo):
    found = provenance(repo, environ={})
    assert found["commit"] == git(repo, "rev-parse", "HEAD") and found["source"] == "git"
    assert found["branch"] == "feature" and found["dirty"] is False
    assert found["commit_time_utc"] == git(repo, "show", "-s", "--format=%cI", "HEAD")
    (repo / "results.json").write_text("{}")  # results written into the project: not dirty
    assert provenance(repo, environ={})["dirty"] is False
    (repo / "model.py").write_text("x = 2\n")
    assert provenance(repo, environ={})["dirty"] is True
    git(repo, "checkout", "-q", "--detach")
    assert provenance(repo, environ={})["branch"] is None  # not "HEAD"


def test_outside_a_repository_nothing_is_guessed(tmp_path, monkeypatch):
    assert provenance(tmp_path, environ={}) == {
        "commit": None, "commit_time_utc": None, "branch": None, "dirty": None,
        "source": "none", "ci": None,
    }  # fmt: skip
    monkeypatch.setenv("PATH", str(tmp_path))  # no git binary at all
    assert provenance(tmp_path, environ={})["source"] == "none"


def test_ci_variables_fill_in_where_git_cannot(tmp_path):
    environ = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": "abc123", "GITHUB_REF_NAME": "main",
               "GITHUB_RUN_ID": "42", "GITHUB_SERVER_URL": "https://github.com",
               "GITHUB_REPOSITORY": "lab/model"}  # fmt: skip
    found = provenance(tmp_path, environ=environ)
    assert (found["commit"], found["branch"], found["source"]) == ("abc123", "main", "ci")
    assert found["ci"]["run_url"] == "https://github.com/lab/model/actions/runs/42"
    assert found["dirty"] is None and found["commit_time_utc"] is None
    gitlab = ci_context({"GITLAB_CI": "true", "CI_JOB_ID": "7", "CI_JOB_URL": "https://gl/j/7"})
    assert gitlab["provider"] == "gitlab-ci" and gitlab["run_url"] == "https://gl/j/7"
    assert ci_context({"CI": "true"})["provider"] == "unknown"
    assert ci_context({}) is None


@needs_git
def test_what_the_user_says_wins_and_git_facts_of_another_commit_are_dropped(repo):
    found = provenance(repo, environ={COMMIT_ENV: "deadbeef", BRANCH_ENV: "release"})
    assert (found["commit"], found["branch"], found["source"]) == ("deadbeef", "release", "user")
    assert found["dirty"] is None and found["commit_time_utc"] is None  # git saw another commit


@needs_git
def test_every_results_document_records_the_commit(repo, monkeypatch, capsys):
    monkeypatch.chdir(repo)
    monkeypatch.delenv(COMMIT_ENV, raising=False)  # restored (removed) after the test
    monkeypatch.delenv(BRANCH_ENV, raising=False)
    args = ["measure", "--meter", "simulated", "--windows", "2", "--min-window-s", "0.05",
            "--warmup-s", "0", "--out", str(repo / "results")]  # fmt: skip
    assert main([*args, "--", "true"]) == 0
    assert main([*args, "--commit", "c0ffee", "--branch", "ci-branch", "--", "true"]) == 0
    found = sorted((d["created_utc"], d["provenance"]) for _, d in documents(repo / "results"))
    assert found[0][1]["commit"] == git(repo, "rev-parse", "HEAD")
    assert found[0][1]["source"] == "git" and found[0][1]["branch"] == "feature"
    assert (found[1][1]["commit"], found[1][1]["branch"]) == ("c0ffee", "ci-branch")
