from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tuneworth.errors import TuneworthError
from tuneworth.levers import ModelLever, Scaling
from tuneworth.spec import load_spec, parse_spec

ROOT = Path(__file__).resolve().parents[1]


def spec(**overrides: Any) -> dict[str, Any]:
    return {"name": "t", "dataset": {"source": "sklearn:iris"}, **overrides}


def error(document: dict[str, Any]) -> str:
    with pytest.raises(TuneworthError) as caught:
        parse_spec(document)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_every_shipped_spec_is_valid() -> None:
    specs = sorted((ROOT / "pipelines").glob("*.yaml"))
    assert specs
    for path in specs:
        assert load_spec(path).name


def test_levers_are_names_with_parameters() -> None:
    loaded = parse_spec(spec(levers=["scaling", {"model": {"name": "random_forest"}}]))
    assert loaded.levers == (Scaling(method="standard"), ModelLever(name="random_forest"))


def test_unknown_key_names_its_path_and_the_closest_key() -> None:
    message = error(spec(cv={"fold": 3}))
    assert message == "spec: cv.fold: unknown key (did you mean 'folds'?)"


def test_bad_value_names_its_path() -> None:
    assert "cv.folds: Input should be greater than or equal to 2" in error(spec(cv={"folds": 1}))


@pytest.mark.parametrize(
    ("levers", "expected"),
    [
        (["scalling"], "levers.0: unknown lever 'scalling' (did you mean 'scaling'?)"),
        ([{"scaling": {"method": "fancy"}}], "levers.0.scaling.method: Input should be"),
        (
            [{"scaling": {"methd": "robust"}}],
            "levers.0.scaling.methd: unknown key (did you mean 'method'?)",
        ),
        (
            [{"model": {"name": "random_forrest"}}],
            "levers.0.model.name: unknown model 'random_forrest' (did you mean 'random_forest'?)",
        ),
        (
            ["scaling", {"optuna": {"trials": 0}}],
            "levers.1.optuna.trials: Input should be greater than 0",
        ),
    ],
)
def test_lever_errors_name_the_lever(levers: list[Any], expected: str) -> None:
    assert expected in error(spec(levers=levers))


def test_budget_of_zero_is_rejected() -> None:
    assert "budget.trials" in error(spec(budget={"trials": 0}))


def test_missing_dataset_is_named() -> None:
    assert error({"name": "t"}) == "spec: dataset: required key is missing"


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: t\ndataset:\n  source: [unclosed\n")
    with pytest.raises(TuneworthError, match=r"not valid YAML at line \d"):
        load_spec(path)


def test_yaml_is_loaded_safely(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo owned']\n")
    with pytest.raises(TuneworthError, match="not valid YAML"):
        load_spec(path)


def test_digest_ignores_formatting_but_not_content() -> None:
    a = parse_spec(spec(levers=["scaling"]))
    b = parse_spec(spec(levers=[{"scaling": {"method": "standard"}}]))
    c = parse_spec(spec(levers=[{"scaling": {"method": "robust"}}]))
    assert a.digest() == b.digest() != c.digest()


def test_stacking_designs_take_one_search_at_most() -> None:
    levers = ["scaling", "grid_search", "optuna"]
    message = error(spec(design="ladder", levers=levers))
    assert message.startswith("spec: design: 'ladder' stacks levers")
    assert "(grid_search, optuna)" in message
    assert parse_spec(spec(design="one_at_a_time", levers=levers)).levers


def test_defects_are_validated_with_their_key_path() -> None:
    bad = spec(dataset={"source": "sklearn:iris", "defects": {"label_noise": {"rate": 1.5}}})
    assert "dataset.defects.label_noise.rate: Input should be less than 1" in error(bad)
    typo = spec(dataset={"source": "sklearn:iris", "defects": {"label_nosie": {"rate": 0.1}}})
    assert "dataset.defects.label_nosie: unknown key (did you mean 'label_noise'?)" in error(typo)
