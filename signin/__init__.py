"""The identifier-first sign-in flow (docs/design.md section 3).

``controller.STEPS`` is the order; each step module has one job (``base.Step``); ``flow.SigninFlow``
is the state, kept in the session. Nobody is logged in until ``controller.finish``.
"""
