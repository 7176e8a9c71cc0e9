"""factory-boy factories: each sets only what a test is about.

Unit tests build what they need here; the demo data (the ``demo`` fixture, ``seed_demo``) is for
journey, browser and scale-out tests, where the demo cast is the point.

    UserFactory(password="...")                 a user with that password (default PASSWORD)
    UserFactory(sso_only=True)                  no usable password
    UserFactory(password_changed_at=...)        a password set then (expired, about to expire)
    UserFactory(staff=True) / (superuser=True)
    MitelAccountFactory(entra=True) / (okta=True)     an SSO account (okta: in the beta)
    MembershipFactory(decision_maker=True)      any role: phone_manager, billing_contact, ...
    SsoConnectionFactory(account=...)           saved with its allauth SocialApp, as the portal does
    TOTPDeviceFactory(user=...)                 a confirmed authenticator app
    LockoutFactory(key=username)                a username locked out by failures from elsewhere
"""

import factory
from django.conf import settings
from django.utils import timezone

from accounts.models import Application, Membership, MitelAccount, User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    class Params:
        sso_only = factory.Trait(password=factory.PostGenerationMethodCall("set_unusable_password"))
        staff = factory.Trait(is_staff=True)
        superuser = factory.Trait(is_staff=True, is_superuser=True)

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.LazyAttribute(lambda u: u.username)
    first_name = "Pat"
    last_name = "Doe"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def password_changed_at(obj, create, extracted, **kwargs):
        """Given, it outlives ``set_password`` (which sets it to now): an old or expired password."""
        return extracted

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if (results or {}).get("password_changed_at") is not None:
            instance.password_changed_at = results["password_changed_at"]
        if create:
            instance.save()  # the password, set after the first save


class MitelAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MitelAccount

    class Params:
        entra = factory.Trait(authentication=MitelAccount.Authentication.AZURE_AD)
        okta = factory.Trait(authentication=MitelAccount.Authentication.OKTA, okta_beta=True)

    account_number = factory.Sequence(lambda n: str(200000 + n))
    name = factory.Sequence(lambda n: f"Customer {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    class Params:
        decision_maker = factory.Trait(is_decision_maker=True)
        phone_manager = factory.Trait(is_phone_manager=True)
        billing_contact = factory.Trait(is_billing_contact=True)
        technical_contact = factory.Trait(is_technical_contact=True)
        emergency_contact = factory.Trait(is_emergency_contact=True)

    user = factory.SubFactory(UserFactory)
    account = factory.SubFactory(MitelAccountFactory)


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    slug = factory.Sequence(lambda n: f"app-{n}")
    name = factory.Sequence(lambda n: f"Application {n}")
    home_url = factory.LazyAttribute(lambda a: f"https://{a.slug}.mitel.example/")
    redirect_urls = factory.LazyAttribute(lambda a: f"https://{a.slug}.mitel.example/")


class SsoConnectionFactory(factory.django.DjangoModelFactory):
    """Saved through ``save_connection``, so its allauth SocialApp exists as at sign-in."""

    class Meta:
        model = "sso.SsoConnection"

    account = factory.SubFactory(MitelAccountFactory, entra=True)
    tenant_id = factory.Sequence(lambda n: f"00000000-0000-4000-8000-{n:012d}")
    issuer_url = factory.LazyAttribute(
        lambda c: f"https://customer{c.account.account_number}.okta.example/oauth2/default"
        if c.account.authentication == MitelAccount.Authentication.OKTA else "")
    client_id = factory.Sequence(lambda n: f"client-{n}")
    client_secret = factory.Sequence(lambda n: f"secret-{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from sso.services.connections import save_connection

        return save_connection(model_class(*args, **kwargs))


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    """A confirmed authenticator app (``confirmed=False``: one being enrolled)."""

    class Meta:
        model = "otp_totp.TOTPDevice"

    user = factory.SubFactory(UserFactory)
    name = "Authenticator app"
    confirmed = True


class LockoutFactory(factory.django.DjangoModelFactory):
    """``username`` locked out by as many failures as the limit allows, from another address."""

    class Meta:
        model = "accounts.LockoutCounter"

    scope = "username"
    key = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.SelfAttribute("key")
    failures = factory.LazyFunction(lambda: settings.LOCKOUT_FAILURE_LIMIT)
    window_started_at = factory.LazyFunction(timezone.now)
    last_failure_at = factory.LazyFunction(timezone.now)
    locked_until = factory.LazyFunction(lambda: timezone.now() + settings.LOCKOUT_COOLOFF)
    lockouts = 1
    addresses = factory.LazyFunction(lambda: ["203.0.113.66"])

    @classmethod
    def _create(cls, model_class, *args, scope, key, **kwargs):
        """Over the counter the attempts so far left, if any."""
        counter, _ = model_class.objects.update_or_create(scope=scope, key=key, defaults=kwargs)
        return counter
