"""Spreadsheets (CSV, XLSX) in and out of the admin, with django-import-export.

The columns are the API's members: the protocol layer names them for each model when Django
starts (`register`, from its one description of each object), so the domain restates no field
list. Export renders every column as the API shows it. Import creates each row through the app's
create service, never around it: a refused row shows the service's messages by column, every row
is checked before anything is written (the dry run writes and rolls back), and the confirmed
import is one transaction that any refused row rolls back whole.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.core.validators import DecimalValidator
from django.db import IntegrityError, models
from django.utils.text import capfirst
from import_export import fields, resources, widgets
from import_export.instance_loaders import ModelInstanceLoader

from core.errors import DomainError, DomainErrors, integrity_error
from core.numbers import decimal_string, whole_number


@dataclass(frozen=True)
class Column:
    """One column: an API member of a model's object."""

    name: str  # the member's API path, a reference's with `.id`: "serialNumber", "part.id"
    attribute: str  # the model attribute it reads, the service keyword it writes: "part"
    kind: str  # its JSON type: string, number, integer, boolean; "reference"
    readable: bool  # exported (a write-only member, autogenerateSerialNumber, is not)
    writable: bool  # imported
    render: Callable[[Any], Any]  # a value as the API shows it
    refers_to: type[models.Model] | None = None  # a reference: the model it names
    lookup: str = "pk"  # a reference: the model field behind the named object's id
    # A member the model does not store: the expression the export annotates it with.
    expression: Any = None


_COLUMNS: dict[type[models.Model], tuple[Column, ...]] = {}


def register(model: type[models.Model], columns: Iterable[Column]) -> None:
    _COLUMNS[model] = tuple(columns)


def columns(model: type[models.Model]) -> tuple[Column, ...]:
    return _COLUMNS[model]


TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")
# A text a spreadsheet would run as a formula (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell_text(value: Any) -> str:
    """A cell as text: a spreadsheet's whole number (an XLSX cell holds 2 as 2.0) without its
    `.0`; a text as written, `Cable_2.0` stays itself."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _inert(text: str) -> str:
    """A text exported so a spreadsheet shows it and never runs it: `'=1+1`."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _as_written(text: str) -> str:
    """An exported cell read back: the quote _inert put before a formula's first character goes,
    so an export imports as the values it shows."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def _invalid(column: Column, reason: str) -> ValueError:
    """The domain's invalid_value message, naming the column."""
    error = DomainError("invalid_value", column.attribute, REASON=reason)
    return ValueError(error.message(lambda _: column.name))


class ValueWidget(widgets.Widget):
    """A cell as the API reads the member's JSON value; blank is absent."""

    def __init__(
        self,
        column: Column,
        choices: list[str] | None = None,
        field: models.Field | None = None,
    ) -> None:
        super().__init__()
        self.column = column
        self.choices = choices  # the model field's, as a form field checks them
        # A decimal column: the model field's digits, checked as the API's serializer does.
        self.digits = (
            DecimalValidator(field.max_digits, field.decimal_places)
            if isinstance(field, models.DecimalField)
            else None
        )

    def clean(self, value, row=None, **kwargs):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        kind, text = self.column.kind, _cell_text(value)
        if self.choices and text not in self.choices:
            raise _invalid(self.column, f"must be one of {', '.join(self.choices)}")
        if kind == "boolean":
            if isinstance(value, bool) or text.lower() in (*TRUE, *FALSE):
                return value if isinstance(value, bool) else text.lower() in TRUE
            raise _invalid(self.column, "not true or false")
        if kind == "integer":
            number = whole_number(text)
            if number is None:
                raise _invalid(self.column, "not a whole number")
            return number
        if kind == "number":
            try:
                number = Decimal(text)
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite():
                raise _invalid(self.column, "not a number")
            if self.digits is not None:
                try:
                    self.digits(number)
                except ValidationError as exc:
                    raise _invalid(self.column, exc.messages[0]) from exc
            return number
        return _as_written(value) if isinstance(value, str) else text

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        shown = self.column.render(value)
        if isinstance(shown, bool):
            return "true" if shown else "false"
        if isinstance(shown, Decimal):
            return decimal_string(shown)
        if isinstance(shown, str) and self.column.kind == "string":
            return _inert(shown)
        return shown  # a number stays one: a number cell in XLSX


class ReferenceWidget(ValueWidget):
    """A reference by the named object's id (an item's `Prnt_Ink`, a warehouse's `WH-MAIN`),
    each id looked up once per import."""

    def __init__(self, column: Column) -> None:
        super().__init__(column)
        self.found: dict[str, models.Model | None] = {}

    def clean(self, value, row=None, **kwargs):
        text = "" if value is None else _as_written(_cell_text(value))
        if not text:
            return None
        if text not in self.found:
            model, lookup = self.column.refers_to, self.column.lookup
            if lookup == "pk" and whole_number(text) is None:
                self.found[text] = None
            else:
                self.found[text] = model._default_manager.filter(**{lookup: text}).first()
        if self.found[text] is None:
            error = DomainError(
                "reference_not_found",
                self.column.attribute,
                OBJECT=self.column.refers_to,
                REFERENCE=text,
            )
            raise ValueError(error.message(lambda _: self.column.name))
        return self.found[text]

    def render(self, value, obj=None, **kwargs):
        if value is None:
            return ""
        return _inert(str(getattr(value, self.column.lookup)))


def column_field(column: Column, model: type[models.Model] | None = None) -> fields.Field:
    """The column's field; given the model, a value outside its model field's choices is refused."""
    if column.kind == "reference":
        widget = ReferenceWidget(column)
    else:
        try:
            found = model._meta.get_field(column.attribute) if model else None
        except FieldDoesNotExist:
            found = None
        choices = [str(value) for value, _ in found.choices or ()] if found else None
        widget = ValueWidget(column, choices or None, found)
    attribute = column.attribute.replace(".", "__")  # the library's path separator
    return fields.Field(attribute=attribute, column_name=column.name, widget=widget)


class ExportResource(resources.Resource):
    """Every column of the model, as the API shows it. Subclasses set Meta.model."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.columns = [column for column in columns(self._meta.model) if column.readable]
        for column in self.columns:
            self.fields[column.name] = column_field(column)

    @classmethod
    def get_display_name(cls):
        return cls._meta.model._meta.verbose_name_plural.capitalize()

    def filter_export(self, queryset, **kwargs):
        # What the model does not store is computed in the same statement, as the API's query
        # service does; the referenced objects come joined.
        computed = {c.attribute: c.expression for c in self.columns if c.expression is not None}
        joined = [c.attribute for c in self.columns if c.kind == "reference"]
        queryset = queryset.annotate(**computed)
        return queryset.select_related(*joined) if joined else queryset


class ServiceImportResource(resources.Resource):
    """The writable columns of the model, each row created by `create(user=..., **values)`.
    Subclasses set Meta.model and `service`, the app's create service, whose keyword-only
    arguments without default name the columns every file must have."""

    service: Callable[..., Any]

    class Meta:
        force_init_instance = True  # only creates: a row never finds a stored object
        instance_loader_class = ModelInstanceLoader  # built by the library, never asked
        import_id_fields = ()
        skip_unchanged = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.columns = {c.name: c for c in columns(self._meta.model) if c.writable}
        for column in self.columns.values():
            self.fields[column.name] = column_field(column, self._meta.model)
        self.named = {column.attribute: column.name for column in self.columns.values()}

    @classmethod
    def get_display_name(cls):
        return cls._meta.model._meta.verbose_name_plural.capitalize()

    def required(self) -> list[str]:
        parameters = inspect.signature(type(self).service).parameters.values()
        return [
            self.named[p.name]
            for p in parameters
            if p.kind is p.KEYWORD_ONLY and p.default is p.empty and p.name in self.named
        ]

    def import_data(self, dataset, *args, **kwargs):
        # The admin asks to keep every row's object for its log entries: the ledger and the audit
        # stamps say who created what, and a large file would be held in memory whole.
        kwargs.pop("retain_instance_in_row_result", None)
        self.user = kwargs.get("user")
        dataset.headers = [str(header or "").strip() for header in dataset.headers or ()]
        problem = self.header_problem(dataset.headers)
        if problem is None:
            return super().import_data(dataset, *args, **kwargs)
        # A file whose columns are wrong is refused whole, before any row is read.
        result = self.get_result_class()()
        result.total_rows = len(dataset)
        result.append_base_error(self.get_error_result_class()(ValueError(problem)))
        return result

    def header_problem(self, headers: list[str]) -> str | None:
        unknown = [header for header in headers if header not in self.columns]
        missing = [name for name in self.required() if name not in headers]
        problems = []
        if unknown:
            problems.append(f"unknown columns: {', '.join(unknown)}")
        if missing:
            problems.append(f"missing columns: {', '.join(missing)}")
        if not problems:
            return None
        allowed = ", ".join(self.columns)
        return f"The file's columns are wrong ({'; '.join(problems)}); {allowed}"

    def init_instance(self, row=None):
        return self._meta.model()

    def import_instance(self, instance, row, **kwargs):
        # Each cell's error under its column, as the service's are.
        errors = {}
        values = {}
        for field in self.get_import_fields():
            if field.column_name not in row:
                continue
            try:
                value = field.clean(row, **kwargs)
            except ValueError as exc:
                errors[field.column_name] = ValidationError(str(exc), code="invalid")
                continue
            if value is not None:
                values[field.attribute] = value
                setattr(instance, field.attribute, value)
        instance.import_values = values
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        try:
            created = self.create(instance.import_values)
        except (DomainError, DomainErrors) as err:
            raise self.refusal(err) from err
        except IntegrityError as exc:
            raise self.refusal(integrity_error(exc)) from exc
        for field in created._meta.concrete_fields:
            setattr(instance, field.attname, getattr(created, field.attname))

    def create(self, values: dict[str, Any]) -> models.Model:
        return type(self).service(user=self.user, **values)

    def refusal(self, err: DomainError | DomainErrors) -> ValidationError:
        """The service's messages, each under the column of the field it names, which they
        name as the API's do (a sentence starts with a capital, a column's name stays as is)."""
        by_column: dict[str, list[str]] = {}
        names = tuple(self.named.values())
        for each in err.errors:
            column = self.named.get(each.field or "", NON_FIELD_ERRORS)
            message = each.message(lambda field: self.named.get(field, field))
            message = message if message.startswith(names) else capfirst(message)
            by_column.setdefault(column, []).append(message)
        return ValidationError(by_column)


_EXPORTS: dict[type[models.Model], type[ExportResource]] = {}


def export_resource(model: type[models.Model]) -> type[ExportResource]:
    """The export resource of a model, one class per model (the export form names its fields
    after it: `PartInventoryExport_quantity`)."""
    if model not in _EXPORTS:
        meta = type("Meta", (), {"model": model})
        _EXPORTS[model] = type(f"{model.__name__}Export", (ExportResource,), {"Meta": meta})
    return _EXPORTS[model]


class ServiceBatchImportResource(ServiceImportResource):
    """Rows created by a batch create service (`service(user=..., records=[...])`, answering by
    position what it created or what refused the record), `batch_size` rows a call: memory and
    statements stay bounded whatever the file's size, and each refusal still shows at its row."""

    class Meta(ServiceImportResource.Meta):
        use_bulk = True
        batch_size = 1000
        skip_diff = True

    record: type  # the TypedDict of a record: its required keys are the required columns

    def required(self) -> list[str]:
        return [self.named[key] for key in sorted(self.record.__required_keys__)]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.pending: list[tuple[int, Any, models.Model]] = []
        self.row_results: dict[int, Any] = {}
        self.refused: dict[int, tuple[Any, ValidationError]] = {}

    def save_instance(self, instance, is_create, row, **kwargs):
        self.pending.append((kwargs["row_number"], row, instance))
        self.create_instances.append(instance)  # the library calls bulk_create when a batch is full

    def after_import_row(self, row, row_result, **kwargs):
        if self.pending and self.pending[-1][0] == kwargs["row_number"]:
            self.row_results[kwargs["row_number"]] = row_result

    def bulk_create(self, using_transactions, dry_run, raise_errors, batch_size=None, result=None):
        pending, self.pending = self.pending, []
        self.create_instances.clear()
        if not pending:
            return
        try:
            records = [instance.import_values for _, _, instance in pending]
            answers = type(self).service(user=self.user, records=records)
        except Exception as exc:  # no refusal of a record: the batch failed whole
            self.handle_import_error(result, exc, raise_errors)
            return
        for (number, row, instance), answer in zip(pending, answers, strict=True):
            if isinstance(answer, DomainError | DomainErrors):
                self.refused[number] = (row, self.refusal(answer))
            elif isinstance(answer, Exception):
                self.refused[number] = (row, self.refusal(integrity_error(answer)))
            else:
                instance.pk = answer.pk

    def after_import(self, dataset, result, **kwargs):
        # The rows a batch refused were counted as new when read: they are invalid.
        for number, (row, error) in self.refused.items():
            row_result = self.row_results.pop(number)
            result.totals[row_result.import_type] -= 1
            row_result.import_type = row_result.IMPORT_TYPE_INVALID
            row_result.validation_error = error
            result.totals[row_result.import_type] += 1
            result.append_invalid_row(number, row, error)
        result.invalid_rows.sort(key=lambda invalid: invalid.number)
        self.row_results.clear()
