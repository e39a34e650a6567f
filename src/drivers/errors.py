"""Errors a user can cause. The CLI prints them as one clear line; the dashboard shows them as a message."""


class UserError(Exception):
    """Bad input or an unreachable/unhappy data source: a message for a person, not a traceback.

    The message is kept as given in `args[0]`: the engine raises its errors with a drivers.engine.reasons.Reason
    (a key with arguments whose str value is the bokmål text), so `str(exc)` is the bokmål the CLI prints and the
    dashboard words `exc.args[0]` in the page's language (drivers.i18n.reason_text); a plain str is shown as it is.
    """


class SSBError(UserError):
    """SSB answered with an error that retrying will not fix (names table, variable and value)."""
