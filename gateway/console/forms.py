"""The console's forms. Every POST form is a ``FlaskForm``, so it carries the CSRF token; the
GET filter forms change nothing and carry none. Labels and messages are lazy gettext: they
are translated when a page renders, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError

NOTE = [DataRequired(_l("A reason is required.")), Length(max=200, message=_l("At most 200 characters."))]


class SignInForm(FlaskForm):
    token = PasswordField(_l("API token"), validators=[DataRequired(_l("Enter your API token."))])
    next = HiddenField()


class LanguageForm(FlaskForm):
    lang = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class SignOutForm(FlaskForm):
    pass


class NoteForm(FlaskForm):
    """An action with the operator's recorded reason (acknowledge, release, discard, retry)."""

    note = TextAreaField(_l("Reason"), validators=NOTE)


class ReplayForm(FlaskForm):
    comment = TextAreaField(_l("Comment"), validators=[DataRequired(_l("A comment is required.")),
                                                        Length(max=500, message=_l("At most 500 characters."))])  # fmt: skip


class CycleForm(FlaskForm):
    business_date = StringField(
        _l("Business date (YYYYMMDD, empty: today)"),
        validators=[Optional(), Regexp(r"^\d{8}$", message=_l("Eight digits: YYYYMMDD."))],
    )


class UnmaskForm(FlaskForm):
    reason = StringField(_l("Reason for seeing personal data"), validators=NOTE)


def period_problem(value: str) -> str | None:
    """Why ``value`` is not a month ``YYYYMM``, or None."""
    if len(value) != 6 or not value.isdigit() or not 1 <= int(value[4:]) <= 12 or int(value[:4]) < 2000:
        return str(_l("A month as YYYYMM, e.g. 202611."))
    return None


class _Filter(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing


class FileFilter(_Filter):
    partner = SelectField(_l("Partner"), choices=[], default="", validate_choice=True)
    status = SelectField(_l("Status"), choices=[], default="", validate_choice=True)
    before = IntegerField(validators=[Optional(), NumberRange(min=1)])


class VolunteerSearch(_Filter):
    number = StringField(
        _l("Volunteer number"),
        validators=[Optional(), Regexp(r"^[0-9A-Z]{1,16}$", message=_l("Digits (and capitals for a provisional number)."))],
    )  # fmt: skip
    before = IntegerField(validators=[Optional(), NumberRange(min=1)])


class MonthFilter(_Filter):
    period = StringField(_l("Month (YYYYMM)"))

    def validate_period(self, field: StringField) -> None:
        why = period_problem(field.data or "")
        if why:
            raise ValidationError(why)


class StatsFilter(_Filter):
    year = IntegerField(_l("Year"), validators=[Optional(), NumberRange(min=2000, max=2100, message=_l("A year between 2000 and 2100."))])  # fmt: skip
    period = StringField(_l("Month (YYYYMM, empty: the whole year)"))
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=100)])

    def validate_period(self, field: StringField) -> None:
        why = period_problem(field.data) if field.data else None
        if why:
            raise ValidationError(why)
