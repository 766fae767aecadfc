"""Hydra's command-line flags for ``python -m research.run``: ``-m/--multirun``,
``--cfg job|hydra|all`` (``-c``), ``--resolve``, ``--info`` and ``--help``.

The flags mean what they mean in a Hydra application (``@hydra.main``); ``--help`` lists every
config group with its options, read from ``conf/`` and Hydra's ConfigStore.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from research.config.compose import compose, config_groups
from research.errors import ConfigError
from research.track.params import to_yaml

CFG_CHOICES = ("job", "hydra", "all")
INFO_CHOICES = ("all", "searchpath", "defaults", "overrides")

FLAGS = """Flags:
  -m, --multirun           one job per combination of the sweeps (a=1,2  b=range(1,4)
                           c=choice(x,y)  group=glob(*)), all validated first; each job an
                           MLflow run under one parent run
  -c, --cfg [job|hydra|all]  print the composed config (job, the default), Hydra's own
                           node (hydra) or both (all), and exit
  --resolve                with --cfg hydra|all: resolve Hydra's ${...} interpolations
                           (the job's config is shown resolved, as the run logs it)
  --info [all|searchpath|defaults|overrides]  where configs are found, the option each
                           group got, the overrides; then exit
  -h, --help               this text"""
FLAG_NAMES = "-m/--multirun, -c/--cfg [job|hydra|all], --resolve, --info, -h/--help"


@dataclass
class Flags:
    """What the command line asks for, besides its overrides."""

    overrides: list[str] = field(default_factory=list)
    multirun: bool = False
    cfg: str | None = None
    resolve: bool = False
    info: str | None = None
    help: bool = False


def parse_flags(argv: list[str]) -> Flags:
    """Split ``argv`` into Hydra's flags and the overrides; an unknown flag or a bad flag value
    is a :class:`ConfigError` (one line)."""
    flags = Flags()
    args = list(argv)
    while args:
        arg = args.pop(0)
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if not arg.startswith("-") or arg == "-":
            flags.overrides.append(arg)
        elif arg in ("-h", "--help"):
            flags.help = True
        elif arg in ("-m", "--multirun"):
            flags.multirun = True
        elif arg == "--resolve":
            flags.resolve = True
        elif name in ("-c", "--cfg"):
            flags.cfg = _value(name, value if eq else None, args, CFG_CHOICES)
        elif name == "--info":
            flags.info = _value(name, value if eq else None, args, INFO_CHOICES)
        else:
            raise ConfigError(f"unknown flag {arg!r}; the flags are: {FLAG_NAMES}")
    return flags


def _value(flag: str, given: str | None, rest: list[str], choices: tuple[str, ...]) -> str:
    """The flag's value: ``--flag=v``, ``--flag v`` (a word that is not an override), or the
    first choice when none is given (plain ``--cfg`` is ``--cfg job``)."""
    if given is None and rest and "=" not in rest[0] and not rest[0].startswith(("-", "~")):
        given = rest.pop(0)
    if given is None:
        return choices[0]
    if given not in choices:
        raise ConfigError(f"{flag} {given!r} is not allowed: choose one of {', '.join(choices)}")
    return given


# ------------------------------------------------------------------------------ --help
def help_text(usage: str, overrides: list[str]) -> str:
    """``usage``, then every config group with its options (the default marked ``*``), then
    the flags."""
    groups = config_groups(overrides)
    chosen = choices(compose([o for o in overrides if o.startswith("hydra.")], hydra=True))
    width = max(len(g) for g in groups) + 2
    lines = [usage, "", "Config groups (group=option; * the default; +group=option adds one):"]
    for group, options in groups.items():
        shown = ", ".join(f"{o}*" if chosen.get(group) == o else o for o in options)
        head = f"  {group + ':':<{width}}"
        lines += textwrap.wrap(shown, 96, initial_indent=head, subsequent_indent=" " * len(head))
    lines += ["Override any key: key=value (e.g. regime.lr=0.01); --cfg job shows them.", FLAGS]
    return "\n".join(lines)


def choices(cfg: DictConfig) -> dict[str, str | None]:
    """The option each config group got (Hydra's ``hydra.runtime.choices``), Hydra's own
    groups left out."""
    picked = OmegaConf.to_container(cfg.hydra.runtime.choices)
    return {g: o for g, o in picked.items() if not str(g).startswith("hydra/")}


# ------------------------------------------------------------------------------ --cfg, --info
def cfg_text(job: DictConfig, full: DictConfig | None, part: str, resolve: bool) -> str:
    """Hydra's ``--cfg``: the job's config (``job``, interpolations resolved as the run logs
    it), Hydra's node of ``full`` (``hydra``; resolved with ``--resolve``) or both."""
    if part == "job" or full is None:
        return to_yaml(job)
    node = OmegaConf.masked_copy(full, ["hydra"])
    if resolve:  # what resolves outside a running Hydra app (not hydra.job.num...) is resolved
        for key in list(node.hydra):
            try:
                node.hydra[key] = OmegaConf.to_container(node.hydra[key], resolve=True)
            except (OmegaConfBaseException, ValueError):
                continue
    text = OmegaConf.to_yaml(node)
    return text if part == "hydra" else text + to_yaml(job)


def info_text(cfg: DictConfig, section: str = "all") -> str:
    """A compact ``--info``: the config search path, the defaults (the option each group
    got) and the command line's overrides."""
    runtime = cfg.hydra.runtime
    out: list[str] = []
    if section in ("all", "searchpath"):
        out.append("Config search path:")
        for source in runtime.config_sources:
            out.append(f"  {source.provider:<8} {source.schema}://{source.path}")
    if section in ("all", "defaults"):
        out.append("Defaults (group: option):")
        out += [f"  {g}: {o}" for g, o in sorted(choices(cfg).items())]
    if section in ("all", "overrides"):
        task = list(cfg.hydra.overrides.task)
        out.append("Overrides: " + (" ".join(task) if task else "none"))
    return "\n".join(out)
