import uuid

import oauth2_provider.generators
from django.db import migrations


def give_each_row_its_own(apps, schema_editor):
    """A client ID and a (hashed, never shown) secret per application, an opaque ``sub`` per user.

    A callable default would give every existing row the same value: staff regenerate a secret in
    the Connect Portal to see one.
    """
    from django.contrib.auth.hashers import make_password

    Application = apps.get_model("accounts", "Application")
    for application in Application.objects.all():
        application.client_id = oauth2_provider.generators.generate_client_id()
        application.client_secret = make_password(oauth2_provider.generators.generate_client_secret())
        application.save(update_fields=["client_id", "client_secret"])
    User = apps.get_model("accounts", "User")
    for user in User.objects.filter(sub__isnull=True).only("pk"):
        User.objects.filter(pk=user.pk).update(sub=uuid.uuid4())



class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0012_oidc_clients'),
    ]

    operations = [
        migrations.RunPython(give_each_row_its_own, migrations.RunPython.noop, elidable=True),
    ]
