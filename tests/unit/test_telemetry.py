from __future__ import annotations

from joulebench.harness import telemetry
from joulebench.harness.drift import gpu_slowdowns


def fake_sys(tmp_path, freqs_khz=(2_000_000, 3_000_000), throttles=(1, 2), temp_mc=61_000):
    root = tmp_path / "sys"
    for i, (freq, thr) in enumerate(zip(freqs_khz, throttles, strict=True)):
        cpu = root / f"devices/system/cpu/cpu{i}"
        (cpu / "cpufreq").mkdir(parents=True)
        (cpu / "cpufreq/scaling_cur_freq").write_text(f"{freq}\n")
        (cpu / "thermal_throttle").mkdir()
        (cpu / "thermal_throttle/core_throttle_count").write_text(f"{thr}\n")
        (cpu / "thermal_throttle/package_throttle_count").write_text("10\n")
    (root / "devices/system/cpu/cpufreq").mkdir()  # not a cpuN folder: ignored
    zone = root / "class/thermal/thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "type").write_text("acpitz\n")
    (zone / "temp").write_text("30000\n")
    pkg = root / "class/thermal/thermal_zone1"
    pkg.mkdir()
    (pkg / "type").write_text("x86_pkg_temp\n")
    (pkg / "temp").write_text(f"{temp_mc}\n")
    return root


def test_snapshot_reads_frequency_throttles_and_package_temperature(tmp_path):
    snap = telemetry.snapshot(fake_sys(tmp_path))
    assert snap.cpu_freq_mhz == 2500.0
    assert snap.throttle_count == 1 + 2 + 10 + 10
    assert snap.temperature_c == 61.0
    assert snap.process_threads >= 1


def test_missing_sysfs_values_are_none_not_zero(tmp_path):
    snap = telemetry.snapshot(tmp_path / "empty")
    assert (snap.cpu_freq_mhz, snap.throttle_count, snap.temperature_c) == (None, None, None)


def test_gpu_slowdown_bits_are_named():
    assert gpu_slowdowns(0x40 | 0x4 | 0x1) == ["sw-power-cap", "hw-thermal"]
    assert gpu_slowdowns(0) == [] and gpu_slowdowns(None) == []


def test_machine_state_governors_boost_smt_and_rapl_limits_from_a_fake_sysfs(tmp_path):
    from joulebench.harness import machine

    cpu = tmp_path / "devices/system/cpu"
    for index, name in enumerate(["performance", "performance", "powersave"]):
        folder = cpu / f"cpu{index}/cpufreq"
        folder.mkdir(parents=True)
        (folder / "scaling_governor").write_text(name + "\n")
    (cpu / "intel_pstate").mkdir()
    (cpu / "intel_pstate/no_turbo").write_text("1\n")
    (cpu / "smt").mkdir()
    (cpu / "smt/active").write_text("0\n")
    zone = tmp_path / "class/powercap/intel-rapl:0"
    zone.mkdir(parents=True)
    (zone / "name").write_text("package-0\n")
    (zone / "constraint_0_name").write_text("long_term\n")
    (zone / "constraint_0_power_limit_uw").write_text("65000000\n")
    (zone / "constraint_1_name").write_text("short_term\n")
    (zone / "constraint_1_power_limit_uw").write_text("90000000\n")
    assert machine.governors(tmp_path) == {"performance": 2, "powersave": 1}
    assert machine.boost(tmp_path) is False  # no_turbo = 1
    assert machine.smt(tmp_path) is False
    assert machine.rapl_power_limits_w(tmp_path) == {
        "package-0/long_term": 65.0,
        "package-0/short_term": 90.0,
    }
    empty = tmp_path / "nothing"
    assert machine.governors(empty) == {} and machine.rapl_power_limits_w(empty) == {}
    assert machine.boost(empty) is None and machine.smt(empty) is None  # unknown, not False
