"""Optuna studies whose trials are runs of another study kind (a training, or an evolution).

``schema`` is the ``study:`` group of a search, ``space`` parses the search space (Hydra's
sweeper grammar), ``samplers`` names samplers and pruners (registries), ``storage`` opens the
journal file or an RDB and serialises asks, ``spec`` resolves and preflights a study config,
``trial`` runs one trial in a child run, ``recovery`` fails and retries trials of dead
processes, ``driver`` runs the loop, ``workers`` starts processes, ``progress`` shows them,
``finish`` writes the trials table and figures, ``summary`` says what the study found and
``coordinator`` ties them together for one command. What a trial does is injected by the
search kind (``research.kinds.search``): nothing here imports the config module or a kind.
"""
