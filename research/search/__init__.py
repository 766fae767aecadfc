"""Optuna studies whose trials are training runs.

``space`` parses the search space (Hydra's sweeper grammar), ``samplers`` names samplers and
pruners, ``storage`` opens the journal file or an RDB and serialises asks, ``spec`` resolves
and preflights a study config, ``trial`` trains one trial in a child run, ``recovery`` fails
and retries trials of dead processes, ``driver`` runs the loop, ``workers`` starts processes,
``summary`` says what the study found. ``research.jobs.search`` ties them together.
"""
