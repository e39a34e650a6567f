"""Errors a user can cause. The CLI prints them as one clear line; the dashboard shows them as a message."""


class UserError(Exception):
    """Bad input or an unreachable/unhappy data source: a message for a person, not a traceback."""


class SSBError(UserError):
    """SSB answered with an error that retrying will not fix (names table, variable and value)."""
