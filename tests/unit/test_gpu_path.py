"""A GPU run is measured by the GPU's meter, on finished work, with the host's meter beside it."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from joulebench.devices import Availability, NvmlMeter, SimulatedMeter, choose_meter, registry
from joulebench.devices.combined import CombinedMeter
from joulebench.errors import InvalidWindowError
from joulebench.harness import variant_run
from joulebench.harness.device_sync import is_gpu_device, synchronizer
from joulebench.harness.result import WorkDone
from joulebench.harness.worker import BatchLoop
from joulebench.testing import FakeClock, FakeNvml

YES = Availability(True, "found one")
NO = Availability(False, "nothing here", "do something")


class FakeCuda:
    """torch.cuda as far as the worker uses it: counts synchronisations."""

    def __init__(self, initialised: bool = True) -> None:
        self.syncs = 0
        self.initialised = initialised

    def is_available(self) -> bool:
        return True

    def is_initialized(self) -> bool:
        return self.initialised

    def synchronize(self) -> None:
        self.syncs += 1


class Model:
    def __init__(self, cuda: FakeCuda) -> None:
        self.cuda = cuda
        self.synced_before_each_call: list[int] = []

    def predict(self, batch):
        self.synced_before_each_call.append(self.cuda.syncs)
        return batch


@pytest.fixture
def fake_torch(monkeypatch):
    cuda = FakeCuda()
    monkeypatch.setitem(sys.modules, "torch", SimpleNamespace(cuda=cuda))
    return cuda


def test_the_worker_waits_for_the_gpu_after_every_batch_and_counts_short_batches(fake_torch):
    model = Model(fake_torch)
    loop = BatchLoop(model, ["b0", "b1", "b2"], [4, 4, 2], "cuda:0")
    first, second = loop.run(4), loop.run(2)
    assert fake_torch.syncs == 6  # one wait per batch: a window ends on finished work
    assert model.synced_before_each_call == [0, 1, 2, 3, 4, 5]
    # the cursor goes on from where the last window ended: 4 4 2 4 | 4 2
    assert first == WorkDone(14, first.latencies_s, (4, 4, 2, 4))
    assert second.items == 6 and second.latency_items == (4, 2)
    assert all(t >= 0 for t in first.latencies_s)


def test_a_cpu_worker_never_touches_cuda(fake_torch):
    BatchLoop(Model(fake_torch), ["b"], [3], "cpu").run(5)
    assert fake_torch.syncs == 0
    assert is_gpu_device("cuda") and is_gpu_device("CUDA:1") and not is_gpu_device("cpu")


def test_synchronizer_does_nothing_where_cuda_was_never_started(monkeypatch):
    cuda = FakeCuda(initialised=False)
    monkeypatch.setitem(sys.modules, "torch", SimpleNamespace(cuda=cuda))
    synchronizer("cuda")()
    assert cuda.syncs == 0


def test_auto_for_a_cuda_variant_takes_nvml_with_the_host_meter_beside_it(monkeypatch):
    clock = FakeClock()
    monkeypatch.setitem(registry.METERS, "nvml", lambda: NvmlMeter(nvml=FakeNvml(clock=clock),
                                                                   clock=clock))  # fmt: skip
    monkeypatch.setitem(registry.METERS, "rapl", lambda: SimulatedMeter(40.0, clock=clock))
    meter, reason = choose_meter("auto", gpu=True, probes={"nvml": lambda: YES,
                                                           "rapl": lambda: YES})  # fmt: skip
    assert isinstance(meter, CombinedMeter) and meter.name == "nvml"
    assert meter.primary_domain == "gpu" and meter.method == "counter"
    assert "rapl's readings kept beside it" in reason
    meter.begin()
    clock.advance(2.0)
    readings = {r.domain: r for r in meter.end()}
    assert readings["gpu"].energy_j == pytest.approx(300.0 * 2.0, rel=0.06)
    assert readings["sim"].energy_j == pytest.approx(40.0 * 2.0)
    assert meter.accuracy.rel_frac == 0.05  # the figure's meter's accuracy, NVML's


def test_auto_for_a_cuda_variant_without_rapl_says_the_host_is_not_measured(monkeypatch):
    monkeypatch.setitem(registry.METERS, "nvml", lambda: NvmlMeter(nvml=FakeNvml()))
    meter, reason = choose_meter("auto", gpu=True, probes={"nvml": lambda: YES,
                                                           "rapl": lambda: NO})  # fmt: skip
    assert isinstance(meter, NvmlMeter)
    assert "host CPU not measured (rapl: nothing here)" in reason


def test_a_window_the_gpu_meter_rejects_closes_the_host_meter_too():
    clock = FakeClock()
    gpu = NvmlMeter(nvml=FakeNvml(clock=clock), clock=clock)
    host = SimulatedMeter(40.0, clock=clock)
    meter = CombinedMeter(gpu, [host])
    meter.begin()
    clock.advance(0.5)  # under NVML's 1 s: the window is refused
    with pytest.raises(InvalidWindowError):
        meter.end()
    meter.begin()  # both meters are ready for the next window
    clock.advance(2.0)
    assert {r.domain for r in meter.end()} == {"gpu", "gpu:0", "sim"}


def test_run_variants_chooses_the_meter_from_the_variants_device_not_this_process(monkeypatch):
    seen = {}

    def fake_measure_many(workloads, meter, **kwargs):
        seen.update(kwargs)
        return {}

    monkeypatch.setattr(variant_run, "measure_many", fake_measure_many)
    worker = SimpleNamespace(run=lambda n: WorkDone(n), pid=None)
    for device, gpu in (("cuda:0", True), ("cpu", False)):
        variant_run._measure({"a": (worker, None)}, variant_run.VariantRun(), "auto", None,
                             lambda e: None, {}, device)  # fmt: skip
        assert seen["gpu"] is gpu
