from __future__ import annotations

import pytest

from joulebench.config import load_experiment
from joulebench.errors import UserError

GOOD = """
[task]
data = "data/reviews.csv"
max_test = 100

[[variants]]
name = "base"
path = "models/base"

[[variants]]
name = "int8"
method = "int8"
parent = "base"
path = "models/base"
recipe = { quantize = "dynamic-int8" }

[meter]
name = "estimate"
cpu_watts = 6.5

[protocol]
windows = 7

[run]
batch_size = 16
battery = "custom:5000mAh@3.85V"
"""


def write(tmp_path, text, name="experiment.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_good_file_is_validated_and_paths_resolved_against_its_folder(tmp_path):
    experiment = load_experiment(write(tmp_path, GOOD))
    assert experiment.variants[0].path == tmp_path / "models/base"
    assert experiment.task.data == str(tmp_path / "data/reviews.csv")
    assert experiment.variants[1].recipe == {"quantize": "dynamic-int8"}
    assert experiment.protocol.windows == 7 and experiment.protocol.min_window_s is None
    assert experiment.run.batch_size == 16 and experiment.meter.cpu_watts == 6.5
    with pytest.raises(Exception, match="frozen"):
        experiment.run.batch_size = 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("batch_size = 16", "batchsize = 16"), "unknown key 'run.batchsize'"),
        (
            ('name = "base"\npath', 'name = "base"\nbackend = "tf"\npath'),
            r"variants\[0\]\.backend: Input should be 'torch', 'onnxruntime', 'onnxruntime-genai',",
        ),
        (("windows = 7", "windows = 1"), r"protocol\.windows: .*greater than or equal to 2"),
        (('parent = "base"', 'parent = "teacher"'), "names parent 'teacher'"),
        (('name = "int8"', 'name = "base"'), "'base' is used twice"),
        (("[task]", "[tsak]"), "unknown key 'tsak'"),
        (("max_test = 100", "max_test = 100\n[[[oops"), "not valid TOML"),
    ],
)
def test_bad_files_are_one_line_naming_file_and_key(tmp_path, change, message):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(UserError, match=message) as info:
        load_experiment(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_file_and_missing_task(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_experiment(tmp_path / "nope.toml")
    with pytest.raises(UserError, match="missing key 'task'"):
        load_experiment(write(tmp_path, '[[variants]]\nname = "a"\npath = "x"\n'))
