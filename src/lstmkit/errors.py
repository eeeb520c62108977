"""Errors a user can fix. The CLI prints their message as one line and exits with code 2."""


class UserError(Exception):
    """A mistake in the user's input: the message names the argument, expected vs got, and the fix."""


class ArtifactError(UserError):
    """A model directory that is missing, truncated, modified or of the wrong kind."""


class TrainingDiverged(UserError):
    """The training loss became NaN or infinite."""
