"""The wording of a report's caveats: seeds counted honestly, differences named by key."""

from __future__ import annotations

from research.report.caveats import differences


def test_a_difference_in_settings_names_only_the_keys_that_differ():
    warnings = differences(
        {
            "network": {
                "cmaes": "model.activation=tanh, model.hidden=[6,2], model.name=mlp",
                "cmaes_nv": "model.activation=tanh, model.hidden=[3], model.name=elman, model.x=1",
            },
            "git commit": {"cmaes": "abc123", "cmaes_nv": "def456"},
            "data": {"cmaes": "xor", "cmaes_nv": "xor"},
        }
    )
    assert warnings == [
        "cmaes, cmaes_nv differ in network: cmaes: model.hidden=[6,2], model.name=mlp, "
        "model.x=-; cmaes_nv: model.hidden=[3], model.name=elman, model.x=1",
        "cmaes, cmaes_nv differ in git commit: cmaes: abc123; cmaes_nv: def456",
    ]
