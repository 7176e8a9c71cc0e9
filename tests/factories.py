"""factory-boy factories: each sets only what a test is about."""

import factory

from accounts.models import Application, Membership, MitelAccount, User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}@example.com")
    email = factory.LazyAttribute(lambda u: u.username)
    first_name = "Pat"
    last_name = "Doe"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MitelAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MitelAccount

    account_number = factory.Sequence(lambda n: str(200000 + n))
    name = factory.Sequence(lambda n: f"Customer {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    account = factory.SubFactory(MitelAccountFactory)


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    slug = factory.Sequence(lambda n: f"app-{n}")
    name = factory.Sequence(lambda n: f"Application {n}")
    home_url = factory.LazyAttribute(lambda a: f"https://{a.slug}.mitel.example/")
    redirect_urls = factory.LazyAttribute(lambda a: f"https://{a.slug}.mitel.example/")
