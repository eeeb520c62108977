"""Errors a user can fix. The CLI prints their message as one line and exits with code 2."""


class UserError(Exception):
    """A mistake in the user's input: the message names the argument, expected vs got, and the fix."""


class ArtifactError(UserError):
    """A model directory that is missing, truncated, modified or of the wrong kind."""


class TrainingDiverged(UserError):
    """The training loss became NaN or infinite."""


def listed(names) -> str:
    """Names for an error message, comma-separated; one holding line breaks or other unprintable characters
    is shown quoted and escaped, so that the message stays one line."""
    return ", ".join(n if n.isprintable() else repr(n) for n in map(str, names))
