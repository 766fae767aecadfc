"""Config composition and validation: every shipped option composes; bad input is one line."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from research.config import compose, conf_dir, flatten, optimiser_params, validate
from research.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def test_default_config_is_mnist1d_mlp_sgd():
    cfg = compose()
    groups = validate(cfg)
    assert (cfg.data.name, cfg.model.name, cfg.regime.name, cfg.tracking.kind) == (
        "mnist1d",
        "mlp",
        "sgd",
        "local",
    )
    assert cfg.seed == 0
    assert groups["regime"].lr == cfg.regime.lr


@pytest.mark.parametrize("group", ["data", "model", "regime", "tracking"])
def test_every_shipped_option_composes_and_validates(group):
    options = sorted(p.stem for p in (conf_dir() / group).glob("*.yaml"))
    assert options, f"no options in conf/{group}"
    for option in options:
        overrides = [f"{group}={option}"]
        if option == "server":
            overrides.append("tracking.uri=http://127.0.0.1:5000")
        validate(compose(overrides))


def test_conf_dir_is_the_repository_conf():
    assert conf_dir().resolve() == (REPO / "conf").resolve()


@pytest.mark.parametrize(
    ("override", "must_contain"),
    [
        ("regime.lr=-1", ["regime.lr", "-1", "> 0"]),
        ("model.hidden=[0]", ["model.hidden", "[0]", ">= 1"]),
        ("data=nosuch", ["data", "nosuch", "mnist1d"]),
        ("regime=nosuch", ["regime", "nosuch", "adam"]),
        ("model=nosuch", ["model", "nosuch", "rbf"]),
        ("regime.lr=abc", ["regime.lr", "abc"]),
        ("regime.epochs=-3", ["regime.epochs", "-3"]),
        ("regime.batch_size=0", ["regime.batch_size", "0"]),
        ("model.activation=swishy", ["model.activation", "swishy", "relu"]),
        ("model.cost=hinge", ["model.cost", "hinge", "quadratic"]),
        ("model.dropout=1.5", ["model.dropout", "1.5"]),
        ("model.dtype=float16", ["model.dtype", "float16", "float32"]),
        ("regime.schedule.name=cosine", ["schedule.name", "cosine", "plateau"]),
        ("regime.nosuch=1", ["nosuch"]),
        ("name=../escape", ["name", "../escape"]),
        ("tracking.kind=cloud", ["tracking.kind", "cloud", "local"]),
        ("data.val_fraction=1.0", ["data.val_fraction", "1.0"]),
        ("regime=momentum regime.mu=1.5", ["regime.mu", "1.5"]),
        ("regime.lr=", ["regime.lr"]),
        ("model.hidden=[3,", ["[3,"]),
    ],
)
def test_bad_input_is_one_clear_line(override, must_contain):
    with pytest.raises(ConfigError) as info:
        validate(compose(override.split()))
    message = str(info.value)
    assert "\n" not in message, message
    for fragment in must_contain:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_flatten_gives_dotted_keys_for_mlflow_params():
    flat = flatten(compose(["regime=adam"]))
    assert flat["regime.name"] == "adam"
    assert flat["regime.schedule.name"] == "constant"
    assert flat["model.hidden"] == [100]
    assert all(not isinstance(v, dict) for v in flat.values())


def test_optimiser_params_are_only_the_optimisers_own_fields():
    groups = validate(compose(["regime=adam"]))
    assert optimiser_params(groups["regime"]) == {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    assert optimiser_params(validate(compose())["regime"]) == {}


def test_pyproject_lists_every_package_directory():
    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = {
        ".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "research").rglob("__init__.py")
    }
    assert on_disk - listed == set(), "add these packages to pyproject.toml"
