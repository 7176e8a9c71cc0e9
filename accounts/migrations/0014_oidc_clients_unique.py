import uuid

import oauth2_provider.generators
import oauth2_provider.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0013_oidc_clients_fill'),
    ]

    operations = [
        migrations.AlterField(
            model_name='application',
            name='client_id',
            field=models.CharField(db_index=True, default=oauth2_provider.generators.generate_client_id, max_length=255, unique=True, verbose_name='client ID'),
        ),
        migrations.AlterField(
            model_name='application',
            name='client_secret',
            field=oauth2_provider.models.ClientSecretField(blank=True, db_index=True, default=oauth2_provider.generators.generate_client_secret, help_text='Client secret for authentication', max_length=255, verbose_name='client secret'),
        ),
        migrations.AlterField(
            model_name='user',
            name='sub',
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name='subject identifier'),
        ),
    ]
