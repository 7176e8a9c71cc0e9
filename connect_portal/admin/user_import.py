"""Importing users from a CSV file in the Connect Portal, through django-import-export.

The library gives the two steps (a preview in a transaction that is rolled back, then the
confirmation) and the per-row error table; everything that decides what a row may do is ours
(``accounts.services.user_import``): the resource never loads an existing user (a row naming one
is an error, never an update), and creates users only through the services that check the
contact's rights. A file with any bad row imports nothing: the preview offers no confirmation, and
a confirmation that finds a row gone bad since the preview rolls back every row.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from import_export import fields, resources
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.results import RowResult
from import_export.tmp_storages import CacheStorage

from accounts.models import User
from accounts.services import user_import

MAX_FILE_BYTES = 2 * 1024 * 1024
PREVIEWS_SESSION_KEY = "user_import_previews"


class UserImportResource(resources.ModelResource):
    """One row, one new user, for the contact who uploads the file."""

    username = fields.Field(attribute="username", column_name="username")
    first_name = fields.Field(attribute="first_name", column_name="first_name")
    last_name = fields.Field(attribute="last_name", column_name="last_name")
    email = fields.Field(attribute="email", column_name="email")
    account = fields.Field(attribute="import_account", column_name="account")
    role = fields.Field(attribute="import_roles", column_name="role")

    class Meta:
        model = User
        fields = user_import.COLUMNS
        import_id_fields = ("username",)
        use_transactions = True
        clean_model_instances = False
        skip_unchanged = False

    def __init__(self, *, request: HttpRequest, **kwargs) -> None:
        super().__init__(**kwargs)
        self.request = request
        self.actor = request.user
        self.accounts = user_import.manageable_accounts(self.actor)
        self.seen: dict[str, int] = {}
        self.created: list[User] = []

    @classmethod
    def get_display_name(cls) -> str:
        return "users"

    def get_instance(self, instance_loader, row):
        """Never an existing user: a row for one is refused (``check_row``), never an update."""
        return None

    def import_instance(self, instance, row, **kwargs) -> None:
        new = user_import.check_row(row, actor=self.actor, accounts=self.accounts, seen=self.seen,
                                    number=kwargs["row_number"])
        instance.checked = new
        instance.username, instance.first_name, instance.last_name, instance.email = (
            new.username, new.first_name, new.last_name, new.email)
        instance.import_account = f"{new.account.account_number} {new.account.name}"
        instance.import_roles = ", ".join(str(role.label) for role in sorted(new.roles)) or "user"

    def save_instance(self, instance, is_create, row, **kwargs) -> None:
        # In the preview too, inside the transaction the library rolls back: the database's own
        # checks (a username taken meanwhile) show on the row.
        user = user_import.create_invited_user(instance.checked, acting_user=self.actor,
                                               request=self.request)
        instance.pk = user.pk
        self.created.append(user)

    def save_m2m(self, instance, row, **kwargs) -> None:
        pass


class UserImportForm(ImportForm):
    """The file, checked as a whole before any row: size, UTF-8, headers, number of rows."""

    def __init__(self, formats, resources, **kwargs) -> None:
        super().__init__(formats, resources, **kwargs)
        field = self.fields["import_file"]
        field.label = _("CSV file")
        field.help_text = _("UTF-8 CSV with the columns %(columns)s. Account may be left out when you "
                            "manage one account; role is empty for a user without a role, or roles "
                            "separated by ';'.") % {"columns": ", ".join(user_import.COLUMNS)}
        field.widget.attrs["accept"] = ".csv,text/csv"
        self.fields["format"].widget = forms.HiddenInput()

    @property
    def media(self):
        return forms.Media()  # no format to guess: CSV only, and no jQuery on this page

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > MAX_FILE_BYTES:
            raise ValidationError(_("The file is larger than %(megabytes)d MB.")
                                  % {"megabytes": MAX_FILE_BYTES // (1024 * 1024)})
        data = upload.read()
        upload.seek(0)
        user_import.read_rows(data)  # FileRefused is a ValidationError: shown on the field
        return upload


class UserImportMixin(ImportMixin):
    """The Import page of the users list, for whoever may add users."""

    resource_classes = [UserImportResource]
    import_formats = [CSV]
    from_encoding = "utf-8-sig"
    import_form_class = UserImportForm
    confirm_form_class = ConfirmImportForm
    import_template_name = "admin/accounts/user/import.html"
    # Between the preview and the confirmation the file waits in the cache (Redis in production),
    # not in one process's temporary folder: the confirmation may reach another process.
    tmp_storage_class = CacheStorage
    skip_admin_log = True  # the audit trail records imports (accounts.services.user_import)
    import_error_display = ("message",)

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request)

    def get_import_resource_kwargs(self, request, **kwargs):
        return {"request": request}

    def get_import_data_kwargs(self, **kwargs):
        kwargs.pop("form", None)
        kwargs.pop("request", None)
        # At confirmation: a row gone bad since the preview rolls back every row.
        kwargs["rollback_on_validation_errors"] = True
        return kwargs

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if initial.get("import_file_name"):
            # The confirmation may name only a preview this session made (not another person's).
            previews = request.session.get(PREVIEWS_SESSION_KEY, [])[-9:]
            request.session[PREVIEWS_SESSION_KEY] = [*previews, initial["import_file_name"]]
        return initial

    def process_import(self, request, **kwargs):
        if not self.has_import_permission(request):
            raise PermissionDenied
        name = request.POST.get("import_file_name", "")
        previews = request.session.get(PREVIEWS_SESSION_KEY, [])
        if (request.method != "POST" or name not in previews or request.POST.get("format") != "0"
                or CacheStorage(name=name).read() is None):
            context = {
                **self.admin_site.each_context(request),
                "title": _("Import users"), "opts": self.model._meta, "columns": user_import.COLUMNS,
                "form": self.blank_import_form(request), "preview_gone": True,
            }
            return TemplateResponse(request, [self.import_template_name], context, status=400)
        request.session[PREVIEWS_SESSION_KEY] = [p for p in previews if p != name]
        return super().process_import(request, **kwargs)

    def blank_import_form(self, request):
        return self.get_import_form_class(request)(
            self.get_import_formats(), self.get_import_resource_classes(request))

    def add_data_read_fail_error_to_form(self, form, e) -> None:
        form.add_error("import_file", _("The file could not be read as CSV."))

    def process_dataset(self, dataset, form, request, **kwargs):
        result = super().process_dataset(dataset, form, request, **kwargs)
        result.file_name = form.cleaned_data.get("original_file_name", "")
        return result

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            context = {
                **self.admin_site.each_context(request),
                "title": _("Import users"), "opts": self.model._meta, "result": result,
                "columns": user_import.COLUMNS, "form": self.blank_import_form(request),
                "refused_at_confirmation": True,
            }
            return TemplateResponse(request, [self.import_template_name], context, status=400)
        created = [row.instance for row in result.rows if row.import_type == RowResult.IMPORT_TYPE_NEW]
        users = list(User.objects.filter(pk__in=[user.pk for user in created]))
        user_import.record_import(users, file_name=getattr(result, "file_name", ""),
                                  acting_user=request.user, request=request)
        return super().process_result(result, request)

    def add_success_message(self, result, request) -> None:
        count = result.totals[RowResult.IMPORT_TYPE_NEW]
        self.message_user(request, ngettext(
            "Imported %(count)d user: each was sent an e-mail with a link to choose their password.",
            "Imported %(count)d users: each was sent an e-mail with a link to choose their password.",
            count) % {"count": count}, messages.SUCCESS)

    def get_import_context_data(self, **kwargs):
        return {"columns": user_import.COLUMNS, **kwargs}
