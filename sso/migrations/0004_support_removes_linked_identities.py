# Written by hand: support staff remove linked identities (when a customer re-registers its
# application at the identity provider, every ``sub`` changes).

from django.contrib.auth.management import create_permissions
from django.db import migrations

SUPPORT_GROUP = "Support staff"


def let_support_remove_linked_identities(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    for codename in ("view_linkedidentity", "delete_linkedidentity"):
        group.permissions.add(Permission.objects.get(content_type__app_label="sso", codename=codename))


class Migration(migrations.Migration):

    dependencies = [
        ('sso', '0003_provider_names'),
        ('accounts', '0003_support_staff'),
    ]

    operations = [
        migrations.RunPython(let_support_remove_linked_identities, migrations.RunPython.noop),
    ]
