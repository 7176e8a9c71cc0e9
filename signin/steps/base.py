"""What every sign-in step is: it says whether it applies, shows its screen, accepts its input."""

from typing import Protocol

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from ..flow import SigninFlow


class Runner(Protocol):
    """What the controller hands a step to end its turn (a step never imports the controller)."""

    def done(self) -> HttpResponse:
        """The step did its job: record it and go on to the next step that applies."""

    def proceed(self) -> HttpResponse:
        """Go on without marking the step done (a choice changed which step applies)."""


class Step:
    """One screen of the sign-in flow.

    ``applies`` is asked only after every earlier step is done; a step that does not apply is
    skipped. ``post`` either re-renders with errors, or records what it proved through the flow's
    transitions and returns ``runner.done()``.
    """

    name: str = ""  # recorded in the flow when done
    slug: str = ""  # the URL segment: /signin/<slug>/; steps that must look alike share one
    template: str = ""
    form_class: type[forms.Form] | None = None
    # Whether the page may be the reply to the previous step's POST (signin.controller.advance):
    # ``get`` only renders, changing nothing and reading nothing of the request's method or query.
    renders_in_place: bool = True

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        cls.slug = cls.slug or cls.name

    def applies(self, flow: SigninFlow) -> bool:
        return True

    def get(self, request: HttpRequest, flow: SigninFlow, **extra) -> HttpResponse:
        return self.render(request, flow, self.make_form(flow), **extra)

    def post(self, request: HttpRequest, flow: SigninFlow, runner: Runner) -> HttpResponse:
        raise NotImplementedError

    def make_form(self, flow: SigninFlow, data=None) -> forms.Form | None:
        return self.form_class(data) if self.form_class else None

    def context(self, flow: SigninFlow) -> dict:
        return {}

    def memory_key(self, flow: SigninFlow) -> tuple | None:
        """What the page rendered in place (``get``) shows besides the flow's id, the CSRF token,
        the username, the language, its URL and the application, or None when it shows more (the
        person's account, say) and must be rendered each time: such a page is rendered once per
        key and process, then filled in (signin/first_page.py, ``serve_in_place``)."""
        return None

    def render(self, request: HttpRequest, flow: SigninFlow, form, *, status: int = 200,
               **extra) -> HttpResponse:
        context = {"flow": flow, "username": flow.username, "form": form, "step": self,
                   **self.context(flow), **extra}
        return TemplateResponse(request, self.template, context, status=status)
