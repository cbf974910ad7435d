from __future__ import annotations

import json
from pathlib import Path

import pytest

from joulebench import measure_many
from joulebench.devices import SimulatedMeter
from joulebench.errors import ResultsError, SchemaVersionError
from joulebench.results import load, load_windows, read_document, save
from joulebench.testing import BusyTrace, FakeClock

DATA = Path(__file__).parent.parent / "data"
REFERENCE = DATA / "results-v1.json"


def run(host, noise_frac=0.02):
    clock = FakeClock()
    trace = BusyTrace(clock, 5.0, 25.0)
    meter = SimulatedMeter(trace, noise_frac=noise_frac, seed=4, clock=clock)
    return measure_many(
        {"A": trace.workload(0.01), "B": trace.workload(0.02)},
        meter,
        clock=clock,
        host_probe=host,
        seed=0,
        warmup_s=0.0,
    )


def test_save_then_load_gives_a_tidy_frame_with_intervals_and_method(tmp_path, host):
    results = run(host)
    path = save(results, tmp_path)
    assert path.parent.parent == tmp_path  # results/<machine-id>/<file>
    frame = load(tmp_path)
    assert list(frame["label"]) == ["A", "B"]
    row = frame.set_index("label").loc["A"]
    assert row["energy_per_item_j"] == pytest.approx(results["A"].energy_per_item_j.mean)
    assert row["energy_per_item_j_ci95"] == pytest.approx(results["A"].energy_per_item_j.ci95)
    assert row["net_energy_per_item_j"] == pytest.approx(0.2, rel=0.02)
    assert row["energy_method"] == "simulated" and not row["measured"]
    assert row["windows"] == 5
    windows = load_windows(path)
    assert sorted(set(windows["label"])) == ["A", "B", "idle"]
    assert (windows["label"] == "idle").sum() == 5


def test_a_second_save_never_overwrites_the_first(tmp_path, host):
    results = run(host)
    first = save(results, tmp_path)
    before = first.read_bytes()
    second = save(results, tmp_path)
    assert first != second and first.read_bytes() == before
    assert not list(tmp_path.rglob(".tmp-*"))


def test_document_holds_machine_settings_and_raw_readings(tmp_path, host):
    document = read_document(save(run(host), tmp_path))
    assert document["schema_version"] == 2
    assert {"cpu_model", "logical_cpus", "kernel", "governor", "python", "libraries"} <= set(
        document["machine"]
    )
    assert document["settings"]["windows"] == 5
    window = document["measurements"][0]["windows"][0]
    assert window["readings"][0]["method"] == "simulated"
    assert window["readings"][0]["energy_j"] > 0
    assert document["measurements"][0]["method_label"].startswith("SIMULATED")


def test_reference_v1_file_still_loads_with_its_figures():
    frame = load(REFERENCE).set_index("label")
    assert frame.loc["fast", "energy_per_item_j"] == pytest.approx(0.25)
    assert frame.loc["slow", "net_energy_per_item_j"] == pytest.approx(0.40)
    assert frame.loc["fast", "calls_per_window"] == 51
    assert frame.loc["fast", "machine"] == "reference-host-00000000"


def test_unknown_schema_version_is_refused_with_the_fix(tmp_path):
    document = json.loads(REFERENCE.read_text())
    document["schema_version"] = 99
    path = tmp_path / "future.json"
    path.write_text(json.dumps(document))
    with pytest.raises(
        SchemaVersionError, match=r"future.json: unknown results schema_version 99.*upgrade"
    ):
        load(path)


def test_corrupt_missing_and_empty_inputs_are_one_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ResultsError, match=r"bad\.json is not valid JSON"):
        load(bad)
    with pytest.raises(ResultsError, match="does not exist"):
        load(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ResultsError, match="no results"):
        load(tmp_path / "empty")


def test_an_unwritable_results_folder_is_refused(tmp_path, host):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ResultsError, match=r"not writable.*--out"):
        save(run(host), blocker / "results")


def test_the_version_2_reference_file_loads_with_items_order_and_stopping_rule():
    document = read_document(DATA / "results-v2.json")
    assert document["schema_version"] == 2 and "migrated_from" not in document
    assert document["order"][2] == ["idle", "slow", "batched"] and document["order_seed"] == 0
    batched = document["measurements"][0]
    # windows of 4, 4, 2-example batches: energy per item divides by the items each ran
    assert [w["items"] for w in batched["windows"]] != [w["calls"] * 4 for w in batched["windows"]]
    assert batched["stopping"]["rule"] == "fixed"
    assert batched["systematic"]["accuracy"]["rel_frac"] == 0.0
    frame = load(DATA / "results-v2.json").set_index("label")
    assert frame.loc["batched", "energy_j"] == pytest.approx(25.0 * 0.01)
    assert frame.loc["slow", "net_energy_j"] == pytest.approx(20.0 * 0.02)
    assert frame.loc["batched", "stopping_rule"] == "fixed"
    windows = load_windows(DATA / "results-v2.json")
    assert {"items", "position"} <= set(windows.columns)


def test_a_version_1_variant_file_is_migrated_per_item_and_flagged():
    old = json.loads((DATA / "variants-v1.json").read_text())
    document = read_document(DATA / "variants-v1.json")
    assert document["schema_version"] == 2 and document["migrated_from"] == 1
    before, after = old["measurements"][0], document["measurements"][0]
    per_call = before["figures"]["energy_per_call_j"]
    assert after["figures"]["energy_per_item_j"]["mean"] == pytest.approx(per_call["mean"] / 8)
    assert after["figures"]["energy_per_item_j"]["ci95"] == pytest.approx(per_call["ci95"] / 8)
    assert after["windows"][0]["items"] == before["windows"][0]["calls"] * 8
    assert "items-not-counted" in [f["code"] for f in after["flags"]]
    frame = load(DATA / "variants-v1.json").set_index("variant")
    assert frame.loc["base", "energy_j"] == pytest.approx(per_call["mean"] / 8)
    assert "items-not-counted" in frame.loc["base", "flags"]
