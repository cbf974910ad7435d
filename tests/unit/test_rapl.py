from __future__ import annotations

import time

import pytest

from joulebench.devices.rapl import RaplMeter, discover_zones
from joulebench.errors import InvalidReadingError, InvalidWindowError, MeterUnavailableError
from joulebench.testing import FakePowercap, FakeZone, intel_layout

RANGE_UJ = 3_000_000  # 3 J: the package at 20 W wraps every 0.15 s


def by_domain(readings):
    return {r.domain: r for r in readings}


def scripted(tmp_path, zones, clock, max_power_w=5.0, **kwargs):
    """A tree nobody drives, and a meter whose thread never polls by itself.

    With a 3 J range and at most 5 W, a counter may wrap once every 0.6 s: the scripted
    steps below advance the clock 0.5 s between reads.
    """
    tree = FakePowercap(tmp_path / "powercap", zones)
    meter = RaplMeter(
        tree.root, clock=clock, reader=tree.reader, poll_s=3600.0, max_power_w=max_power_w, **kwargs
    )
    return tree, meter


def test_driven_tree_package_and_dram_within_1_percent_with_wraps_inside_the_window(tmp_path):
    zones = intel_layout(max_range_uj=RANGE_UJ)
    with FakePowercap(tmp_path / "powercap", zones, update_s=0.0005) as tree:
        meter = RaplMeter(tree.root, max_power_w=100.0)
        for _ in range(5):  # on a loaded machine a late poll makes a window unverifiable
            meter.begin()
            time.sleep(0.8)
            try:
                readings = by_domain(meter.end())
                break
            except InvalidWindowError:
                continue
        meter.close()
    package = readings["cpu:package-0"]
    assert package.details["wraps"] >= 4  # 16 J through a 3 J counter

    def truth(domain):  # what the driver thread put in between the values the meter read
        d = readings[domain].details
        return tree.true_energy_j(d["zone"], d["first_uj"], d["last_uj"])

    assert package.energy_j == pytest.approx(truth("cpu:package-0"), rel=0.01)
    assert readings["cpu:dram"].energy_j == pytest.approx(truth("cpu:dram"), rel=0.01)
    assert readings["cpu:psys"].energy_j == pytest.approx(truth("cpu:psys"), rel=0.01)
    # and the truth is the zone's power over (about) the window: 20 W for 0.8 s
    assert package.energy_j == pytest.approx(20.0 * 0.8, rel=0.25)
    # cpu = package + dram; core (inside the package) and psys (whole SoC) never added
    assert readings["cpu"].energy_j == pytest.approx(
        package.energy_j + readings["cpu:dram"].energy_j
    )
    assert readings["cpu"].scope == "package+dram"
    assert readings["cpu:core"].scope == "core"
    assert {r.method for r in readings.values()} == {"counter"}


def test_mmio_duplicate_is_skipped_and_subzones_named_from_their_name_file(tmp_path):
    tree = FakePowercap(tmp_path, intel_layout())
    zones, notes = discover_zones(tree.root, tree.reader)
    assert [z.domain for z in zones] == ["cpu:package-0", "cpu:core", "cpu:dram", "cpu:psys"]
    assert [z.parent_id for z in zones] == [None, "intel-rapl:0", "intel-rapl:0", None]
    assert any("intel-rapl-mmio:0" in n and "skipped" in n for n in notes)


def test_two_equal_readings_are_zero_joules_not_a_wrap(tmp_path, clock):
    zones = [
        FakeZone("intel-rapl:0", "package-0", 0, RANGE_UJ, start_uj=100),
        FakeZone("intel-rapl:0:0", "core", 0, RANGE_UJ, start_uj=500),
    ]
    tree, meter = scripted(tmp_path, zones, clock)
    meter.begin()
    clock.advance(0.5)
    tree.write("intel-rapl:0", 2_100)
    readings = by_domain(meter.end())
    assert readings["cpu:core"].energy_j == 0.0
    assert readings["cpu:core"].details["wraps"] == 0
    assert readings["cpu"].energy_j == pytest.approx(0.002)


def test_each_zone_wraps_on_its_own_several_times_in_one_window(tmp_path, clock):
    zones = [
        FakeZone("intel-rapl:0", "package-0", 0, RANGE_UJ, start_uj=2_000_000),
        FakeZone("intel-rapl:0:2", "dram", 0, 2_600_000, start_uj=2_000_000),
    ]
    tree, meter = scripted(tmp_path, zones, clock)
    meter.begin()
    # package: +2 J per step through a 3 J range (wraps 2 of 3 steps); dram: +0.5 J per step
    package, dram = 2_000_000, 2_000_000
    for _ in range(3):
        clock.advance(0.5)
        package = (package + 2_000_000) % RANGE_UJ
        dram = (dram + 500_000) % 2_600_000
        tree.write("intel-rapl:0", package)
        tree.write("intel-rapl:0:2", dram)
        meter.poll_now()
    readings = by_domain(meter.end())
    assert readings["cpu:package-0"].energy_j == pytest.approx(6.0)
    assert readings["cpu:package-0"].details["wraps"] == 2
    assert readings["cpu:dram"].energy_j == pytest.approx(1.5)
    assert readings["cpu:dram"].details["wraps"] == 1
    assert readings["cpu"].energy_j == pytest.approx(7.5)


def test_a_gap_longer_than_the_wrap_time_invalidates_the_window(tmp_path, clock):
    zones = [FakeZone("intel-rapl:0", "package-0", 0, RANGE_UJ, start_uj=0)]
    tree, meter = scripted(tmp_path, zones, clock)  # may wrap every 0.6 s
    meter.begin()
    clock.advance(0.7)
    tree.write("intel-rapl:0", 1_000_000)
    with pytest.raises(InvalidWindowError, match="may wrap"):
        meter.end()


def test_a_counter_that_goes_back_is_invalid_never_negative_or_clamped(tmp_path, clock):
    zones = [FakeZone("intel-rapl:0", "package-0", 0, 262_143_328_850, start_uj=5_000_000)]
    tree, meter = scripted(tmp_path, zones, clock, max_power_w=1000.0)
    meter.begin()
    clock.advance(0.5)
    tree.write("intel-rapl:0", 4_999_000)  # down by 1 mJ: a reset, not a 262 kJ wrap
    with pytest.raises(InvalidWindowError, match="reset or went backwards"):
        meter.end()


def test_a_counter_that_did_not_move_is_invalid_not_zero(tmp_path, clock):
    zones = [FakeZone("intel-rapl:0", "package-0", 0, RANGE_UJ, start_uj=7)]
    _, meter = scripted(tmp_path, zones, clock)
    meter.begin()
    clock.advance(0.5)
    with pytest.raises(InvalidWindowError, match="did not move"):
        meter.end()


@pytest.mark.parametrize("garbage", ["nan", "", "12.5", "-4", "abc"])
def test_a_garbage_reading_is_an_error_naming_the_file(tmp_path, clock, garbage):
    zones = [FakeZone("intel-rapl:0", "package-0", 0, RANGE_UJ)]
    tree, meter = scripted(tmp_path, zones, clock)
    tree.write("intel-rapl:0", garbage)
    with pytest.raises(InvalidReadingError, match="intel-rapl:0"):
        meter.begin()


def test_permission_denied_says_why_lists_zones_and_gives_the_fix(tmp_path):
    zones = intel_layout()
    zones[0].readable = False
    tree = FakePowercap(tmp_path, zones)
    availability = RaplMeter.probe(tree.root, tree.reader)
    assert not availability
    text = availability.message()
    assert "CVE-2020-8694" in text and "Linux 5.10" in text
    assert "intel-rapl:0, intel-rapl:0:0" in text
    assert 'SUBSYSTEM=="powercap"' in text and "/etc/sysfs.conf" in text
    with pytest.raises(MeterUnavailableError, match="permission denied"):
        RaplMeter(tree.root, reader=tree.reader)


def test_zone_with_unreadable_range_is_dropped_with_a_warning(tmp_path, clock):
    zones = intel_layout(RANGE_UJ)
    zones[2].range_readable = False  # dram
    tree = FakePowercap(tmp_path, zones)
    with pytest.warns(RuntimeWarning, match="max_energy_range_uj unreadable"):
        meter = RaplMeter(tree.root, clock=clock, reader=tree.reader, poll_s=3600.0)
    assert "cpu:dram" not in [z.domain for z in meter.zones]
    assert meter.scope == "package"


def test_amd_dies_mirroring_one_counter_are_counted_once(tmp_path, clock):
    zones = [
        FakeZone("intel-rapl:0", "package-0", 0, RANGE_UJ, start_uj=10),
        FakeZone("intel-rapl:1", "package-1", 0, RANGE_UJ, start_uj=10),
    ]
    tree, meter = scripted(tmp_path, zones, clock)
    meter.begin()
    clock.advance(0.5)
    tree.write("intel-rapl:0", 1_000_010)
    tree.write("intel-rapl:1", 1_000_010)
    readings = by_domain(meter.end())
    assert readings["cpu"].energy_j == pytest.approx(1.0)
    assert readings["cpu"].details["mirrored"] == ["intel-rapl:1=intel-rapl:0"]


def test_two_real_packages_are_summed(tmp_path, clock):
    zones = [
        FakeZone("intel-rapl:0", "package-0", 0, RANGE_UJ, start_uj=10),
        FakeZone("intel-rapl:1", "package-1", 0, RANGE_UJ, start_uj=99),
    ]
    tree, meter = scripted(tmp_path, zones, clock)
    meter.begin()
    clock.advance(0.5)
    tree.write("intel-rapl:0", 1_000_010)
    tree.write("intel-rapl:1", 2_000_099)
    assert by_domain(meter.end())["cpu"].energy_j == pytest.approx(3.0)


def test_no_powercap_folder_is_unavailable_with_the_fix(tmp_path):
    availability = RaplMeter.probe(tmp_path / "absent")
    assert not availability
    assert "modprobe intel_rapl_common" in availability.fix
    with pytest.raises(MeterUnavailableError, match="no powercap"):
        RaplMeter(tmp_path / "absent")


def test_poll_interval_lets_the_fastest_zone_wrap_at_most_once_between_reads(tmp_path):
    tree = FakePowercap(tmp_path, intel_layout(RANGE_UJ))
    meter = RaplMeter(tree.root, max_power_w=100.0)
    assert meter.poll_interval_s == pytest.approx(RANGE_UJ / 1e6 / 100.0 / 2)
