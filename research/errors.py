"""The one exception type users see.

Anything raised as :class:`ResearchError` is a problem with the user's input or environment;
``research.run`` prints its message as a single line and exits with status 2, before any run
is created where possible. Everything else is a bug and keeps its traceback.
"""


class ResearchError(Exception):
    """A user-facing error whose message is one clear line."""

    #: the exit status of a command that ends with this error: 2, bad input
    exit_status = 2


class EnvironmentFault(ResearchError):
    """The machine, not the input, is at fault: a store or folder that cannot be written, a
    file that is not what its name says. Exit status 1; the message names the file."""

    exit_status = 1


class ConfigError(ResearchError):
    """A config value is out of range, of the wrong type, or names something unknown."""


def unknown_name(kind: str, name: str, allowed) -> ConfigError:
    """The error for a name missing from a registry: lists what is allowed."""
    choices = ", ".join(sorted(allowed))
    return ConfigError(f"unknown {kind} {name!r}; choose one of: {choices}")
