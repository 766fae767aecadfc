"""A user's own package, outside ``research``: one optimiser, one task, one selection scheme and
one study kind, each usable from the command line without editing ``research``.

Found two ways: by import path in a YAML (``name: toy_plugins.task:and_gate``, Hydra's
``_target_`` convention) and by entry point (``toy_plugins-0.1.dist-info/entry_points.txt``
beside this package: what ``pip install`` of a package declaring entry points writes). The
YAMLs live in ``toy_plugins/conf/``, added with ``hydra.searchpath=[pkg://toy_plugins.conf]``.
"""
