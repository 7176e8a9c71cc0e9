"""The identifier-first sign-in flow (docs/design.md section 3).

``controller.STEPS`` is the order; each module of ``steps/`` is one step (``steps.base.Step``);
``flow.SigninFlow`` is the state, kept in the session and changed only through its transitions.
Nobody is logged in until ``controller.finish``. Code outside this package continues a flow only
through ``resume(request)``.
"""


def resume(request):
    """The sign-in this browser has in progress, or None: see ``controller.PausedFlow``."""
    from .controller import resume as _resume

    return _resume(request)


def switch_account(request, **kwargs):
    """A signed-in person to another of their accounts: see ``controller.switch_account``."""
    from .controller import switch_account as _switch_account

    return _switch_account(request, **kwargs)
