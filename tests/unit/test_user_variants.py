"""User-defined variants: references the worker can import, what they expose, their specs."""

from __future__ import annotations

import sys

import pytest
from pydantic import ValidationError

import joulebench as jb
from joulebench.config import load_experiment
from joulebench.errors import UserError
from joulebench.variants.callable_backend import CallableVariant, torch_modules
from joulebench.variants.spec import VariantSpec
from joulebench.variants.user import as_spec, reference_of, resolve


def top_level(batch):
    return [0] * len(batch)


@jb.variant(name="marked", family="toy", batch_size=8, files=["w.bin"])
def marked(batch):
    return [1] * len(batch)


def test_a_marked_function_becomes_a_callable_spec_with_an_importable_reference():
    spec = marked.spec()
    assert spec.backend == "callable" and spec.family == "toy" and spec.batch_size == 8
    assert spec.function == f"{__name__}:marked"
    assert marked([5, 6]) == [1, 1]  # still callable as the function it marks
    plain = as_spec(top_level)
    assert plain.name == "top_level" and plain.function == f"{__name__}:top_level"
    assert resolve(spec.function, "marked") is marked.function


def test_lambdas_nested_functions_and_non_callables_are_refused_with_the_fix():
    def inner(batch):
        return batch

    with pytest.raises(UserError, match=r"define it at the top level of a \.py file"):
        as_spec(jb.variant(lambda b: b, name="anon"))
    with pytest.raises(UserError, match=r"variant 'inner'.*top level"):
        as_spec(inner)
    with pytest.raises(UserError, match="is not a variant"):
        as_spec(42)


def test_a_function_in_a_script_is_referenced_by_the_script_path(monkeypatch, tmp_path):
    script = tmp_path / "script.py"
    script.write_text("def predict(batch):\n    return batch\n")
    fake_main = type(sys)("__main__")
    fake_main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", fake_main)

    def predict(batch):
        return batch

    predict.__module__ = "__main__"
    predict.__qualname__ = "predict"  # as if defined at the top level of the script
    assert reference_of(predict, "v") == f"{script}:predict"
    del fake_main.__file__  # a notebook's __main__ has no file
    with pytest.raises(UserError, match="interactive session"):
        reference_of(predict, "v")


def test_importing_a_script_does_not_run_its_main_block(tmp_path):
    script = tmp_path / "models.py"
    marker = tmp_path / "ran"
    script.write_text(
        "def predict(batch):\n    return [len(batch)]\n"
        f"if __name__ == '__main__':\n    open({str(marker)!r}, 'w').close()\n"
    )
    function = resolve("models.py:predict", "v", base_dir=tmp_path)
    assert function([1, 2]) == [2]
    assert not marker.exists()


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("no_colon", "is not a reference; write 'package.module:function'"),
        ("no_such_package_xyz:f", "cannot import 'no_such_package_xyz'"),
        ("json:no_such_function", "'json' has no 'no_such_function'"),
        ("json.decoder:JSONDecodeError.__doc__", "is a str, not a function"),
        ("missing.py:f", "does not exist"),
    ],
)
def test_a_reference_that_cannot_be_imported_names_the_variant_and_the_fix(
    reference, message, tmp_path
):
    with pytest.raises(UserError, match=message) as info:
        resolve(reference, "my-variant", base_dir=tmp_path)
    assert str(info.value).startswith("variant 'my-variant'")


def test_a_script_that_raises_on_import_is_one_line(tmp_path):
    (tmp_path / "bad.py").write_text("raise RuntimeError('no weights here')\n")
    with pytest.raises(UserError, match="raised RuntimeError: no weights here"):
        resolve("bad.py:f", "v", base_dir=tmp_path)


torch = pytest.importorskip("torch")
MODEL = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))


def predict_with_global(batch):
    return MODEL(batch).argmax(-1)


def test_parameters_and_weight_bytes_come_from_the_torch_modules_a_callable_reaches(tmp_path):
    assert torch_modules(predict_with_global) == [MODEL]  # inner Linear layers counted once
    variant = CallableVariant(as_spec(predict_with_global))
    assert variant.info.params == 4 * 3 + 3 + 3 * 2 + 2
    assert variant.info.size_bytes == variant.info.params * 4
    assert variant.info.details["size_from"] == "torch module weights in memory"
    unknown = CallableVariant(as_spec(top_level))
    assert unknown.info.params is None and unknown.info.size_bytes is None
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"x" * 1234)
    with_file = CallableVariant(as_spec(jb.variant(top_level, files=[str(weights)])))
    assert with_file.info.size_bytes == 1234 and with_file.info.params is None


def test_specs_say_what_a_callable_or_a_model_file_needs(tmp_path):
    with pytest.raises(ValidationError, match="needs function"):
        VariantSpec(name="v", backend="callable")
    with pytest.raises(ValidationError, match="needs a path"):
        VariantSpec(name="v", backend="torchscript")
    with pytest.raises(ValidationError, match="not both"):
        VariantSpec(name="v", function="m:f", path=tmp_path)
    assert VariantSpec(name="v", function="m:f").backend == "callable"


def test_experiment_files_resolve_script_references_against_their_folder(tmp_path):
    (tmp_path / "exp.toml").write_text(
        '[task]\ndata = "digits"\nmetric = "metrics.py:score"\ntest_fraction = 1.0\n\n'
        '[[variants]]\nname = "mine"\nfamily = "cnn"\nfunction = "models.py:predict"\n'
        'loader = "pkg.loaders:to_tensor"\nfiles = ["weights.pt"]\nbatch_size = 16\n'
    )
    experiment = load_experiment(tmp_path / "exp.toml")
    variant = experiment.variants[0]
    assert variant.function == f"{tmp_path / 'models.py'}:predict"
    assert variant.loader == "pkg.loaders:to_tensor"  # a module reference is left as is
    assert variant.files == [tmp_path / "weights.pt"] and variant.backend == "callable"
    assert experiment.task.metric == f"{tmp_path / 'metrics.py'}:score"
    assert experiment.task.test_fraction == 1.0 and experiment.task.data == "digits"


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")  # TorchScript is deprecated
@pytest.mark.parametrize("backend", ["torchscript", "torch-export"])
def test_saved_torch_programs_run_on_array_batches(tmp_path, backend):
    import numpy as np

    from joulebench.errors import VariantError
    from joulebench.variants.load import load_variant

    torch.manual_seed(0)
    example = torch.zeros(3, 4)
    if backend == "torchscript":
        path = tmp_path / "model.pt"
        torch.jit.save(torch.jit.trace(MODEL, example), str(path))
    else:
        path = tmp_path / "model.pt2"
        batch = torch.export.Dim("batch", min=1, max=1024)
        program = torch.export.export(MODEL, (example,), dynamic_shapes=({0: batch},))
        torch.export.save(program, str(path))
    spec = VariantSpec(name="prog", backend=backend, path=tmp_path)  # the folder: one file
    variant = load_variant(spec)
    inputs = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    out = variant.predict(variant.prepare(inputs))
    expected = MODEL(torch.from_numpy(inputs)).detach().numpy()
    assert isinstance(out, np.ndarray) and np.allclose(out, expected, atol=1e-6)
    assert variant.info.params == 4 * 3 + 3 + 3 * 2 + 2
    assert variant.info.size_bytes == path.stat().st_size
    path.write_bytes(b"not a program")
    with pytest.raises(VariantError, match=rf"variant 'prog': .* is not a loadable {backend}"):
        load_variant(spec)
