"""studies.trials.fields: a field given another default keeps its help, choices and range."""
import dataclasses

import pytest

from studies.sweep.spec import SpecError, check_field
from studies.trials.fields import DataFields, TrainingFields, with_default


@dataclasses.dataclass
class NoisyData(DataFields):
    label_noise: float = with_default(DataFields, "label_noise", 0.1)


def test_with_default_keeps_the_help_and_range():
    f = {x.name: x for x in dataclasses.fields(NoisyData)}["label_noise"]
    g = {x.name: x for x in dataclasses.fields(DataFields)}["label_noise"]
    assert NoisyData().label_noise == 0.1
    assert f.metadata == g.metadata and f.metadata["range"] == (0, 0.5, False, False)
    with pytest.raises(SpecError, match="label_noise"):
        check_field(NoisyData, "label_noise", 0.7, "base")


def test_with_default_keeps_the_choices():
    name = next(x.name for x in dataclasses.fields(TrainingFields) if "choices" in x.metadata)
    g = {x.name: x for x in dataclasses.fields(TrainingFields)}[name]
    new = with_default(TrainingFields, name, g.metadata["choices"][-1])
    assert new.metadata == g.metadata and new.default == g.metadata["choices"][-1]
