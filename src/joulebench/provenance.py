"""Which code a run measured: the commit, branch and dirty state, and the CI run that made it.

Every results document records ``provenance`` so results from many commits can be ordered and
compared (``joulebench history``, issue 18). Sources, first found wins for each field:

1. what the user said: ``--commit`` / ``--branch`` (they set ``JOULEBENCH_COMMIT`` and
   ``JOULEBENCH_BRANCH``), for CI systems that check out without ``.git``;
2. ``git`` in the working directory (the project being measured): the commit, its commit time,
   the branch (not ``HEAD`` of a detached checkout) and whether tracked files differ from it;
3. the CI system's own variables (GitHub Actions, GitLab CI, Buildkite, CircleCI, Jenkins).

Nothing is guessed: a field no source gives is ``None``, and ``source`` says where the commit
came from (``user``, ``git``, ``ci`` or ``none``). Git is given 5 seconds; a missing git
binary or a folder outside a repository is not an error.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

COMMIT_ENV = "JOULEBENCH_COMMIT"
BRANCH_ENV = "JOULEBENCH_BRANCH"
GIT_TIMEOUT_S = 5.0

CI_SYSTEMS: tuple[tuple[str, str, str, str, str], ...] = (
    # provider, variable that says it is this CI, commit, branch, run id
    ("github-actions", "GITHUB_ACTIONS", "GITHUB_SHA", "GITHUB_REF_NAME", "GITHUB_RUN_ID"),
    ("gitlab-ci", "GITLAB_CI", "CI_COMMIT_SHA", "CI_COMMIT_REF_NAME", "CI_JOB_ID"),
    ("buildkite", "BUILDKITE", "BUILDKITE_COMMIT", "BUILDKITE_BRANCH", "BUILDKITE_BUILD_ID"),
    ("circleci", "CIRCLECI", "CIRCLE_SHA1", "CIRCLE_BRANCH", "CIRCLE_BUILD_NUM"),
    ("jenkins", "JENKINS_URL", "GIT_COMMIT", "GIT_BRANCH", "BUILD_ID"),
)


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT_S,
            check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(folder: Path | str = ".") -> dict[str, Any]:
    """Commit, commit time, branch and dirty state of the repository holding ``folder``
    (every value ``None`` outside a repository or without git)."""
    cwd = Path(folder)
    commit = _git(["rev-parse", "HEAD"], cwd)
    if not commit:
        return {"commit": None, "commit_time_utc": None, "branch": None, "dirty": None}
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], cwd)
    status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
    return {
        "commit": commit,
        "commit_time_utc": _git(["show", "-s", "--format=%cI", "HEAD"], cwd),
        "branch": branch if branch and branch != "HEAD" else None,
        "dirty": None if status is None else bool(status),
    }


def ci_context(environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The CI system running us, with its commit, branch, run id and run URL (None outside
    CI)."""
    for provider, marker, commit, branch, run_id in CI_SYSTEMS:
        if environ.get(marker):
            return {
                "provider": provider,
                "commit": environ.get(commit) or None,
                "branch": environ.get(branch) or None,
                "run_id": environ.get(run_id) or None,
                "run_url": _run_url(provider, environ),
            }
    if environ.get("CI", "").lower() in ("true", "1", "yes"):
        return {"provider": "unknown", "commit": None, "branch": None, "run_id": None,
                "run_url": None}  # fmt: skip
    return None


def _run_url(provider: str, environ: Mapping[str, str]) -> str | None:
    if provider == "github-actions":
        parts = [environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY",
                                          "GITHUB_RUN_ID")]  # fmt: skip
        return f"{parts[0]}/{parts[1]}/actions/runs/{parts[2]}" if all(parts) else None
    variable = {"gitlab-ci": "CI_JOB_URL", "buildkite": "BUILDKITE_BUILD_URL",
                "circleci": "CIRCLE_BUILD_URL", "jenkins": "BUILD_URL"}[provider]  # fmt: skip
    return environ.get(variable) or None


def provenance(
    folder: Path | str = ".", environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """What a results document records about the code it measured (see the module's doc)."""
    env = os.environ if environ is None else environ
    git = git_state(folder)
    ci = ci_context(env)
    user_commit, user_branch = env.get(COMMIT_ENV) or None, env.get(BRANCH_ENV) or None
    if user_commit:
        source = "user"
    elif git["commit"]:
        source = "git"
    elif ci and ci["commit"]:
        source = "ci"
    else:
        source = "none"
    commit = user_commit or git["commit"] or (ci or {}).get("commit")
    same_commit = commit == git["commit"]
    return {
        "commit": commit,
        "commit_time_utc": git["commit_time_utc"] if same_commit else None,
        "branch": user_branch or git["branch"] or (ci or {}).get("branch"),
        "dirty": git["dirty"] if same_commit else None,
        "source": source,
        "ci": ci,
    }
