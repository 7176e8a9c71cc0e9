"""Step 6: "Stay signed in?": a persistent session, or one that ends with the browser."""

from django.http import HttpRequest, HttpResponse

from ..flow import SigninFlow
from .base import Runner, Step


class StaySignedInStep(Step):
    name = "stay"
    template = "signin/stay.html"

    def applies(self, flow: SigninFlow) -> bool:
        return flow.is_authenticated

    def context(self, flow: SigninFlow) -> dict:
        from django.conf import settings

        return {"stay_days": settings.SESSION_COOKIE_AGE // 86400}

    def memory_key(self, flow: SigninFlow) -> tuple | None:
        return tuple(self.context(flow).items())

    def post(self, request: HttpRequest, flow: SigninFlow, runner: Runner) -> HttpResponse:
        flow.chose_to_stay_signed_in(request.POST.get("stay") == "yes")
        return runner.done()
