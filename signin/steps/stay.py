"""Step 6: "Stay signed in?": a persistent session, or one that ends with the browser."""

from django.http import HttpRequest, HttpResponse

from ..flow import SigninFlow
from .base import Step


class StaySignedInStep(Step):
    name = "stay"
    template = "signin/stay.html"

    def applies(self, flow: SigninFlow) -> bool:
        return flow.is_authenticated

    def context(self, flow: SigninFlow) -> dict:
        from django.conf import settings

        return {"stay_days": settings.SESSION_COOKIE_AGE // 86400}

    def post(self, request: HttpRequest, flow: SigninFlow) -> HttpResponse:
        from ..controller import advance

        flow.state.stay_signed_in = request.POST.get("stay") == "yes"
        flow.complete(self.name)
        return advance(flow)
