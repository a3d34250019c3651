"""SQL for reaching into the stored Describe document: SQLite JSON1 and PostgreSQL jsonb.

`sagebox.store.query` speaks of "the JSON value at this place"; this module
turns that into each backend's expressions. A `JsonValue` is one value in the
current row (the document, a member of it, or one element of an array being
iterated) and offers it typed: `number()` is NULL unless the value is a JSON
number, `text()` NULL unless it is a JSON string, `boolean()` NULL unless it is
true or false. Typing through JSON's own type (``json_type``, ``jsonb_typeof``)
rather than SQL's keeps booleans apart from numbers on SQLite, where
``json_extract`` answers 1 for true, and keeps PostgreSQL from raising on a cast
of the wrong JSON type.

Member names never become SQL text. PostgreSQL gets each as a bound text
operand of ``->``. SQLite's JSON functions address members with a path string, which
is bound too; inside it every name is a quoted label written as JSON escapes it
(``json.dumps`` with ASCII escapes, exactly as SQLAlchemy's JSON type stores
the document text, which SQLite compares labels against). A label ends at the
first double quote and SQLite has no escape for one, so names containing ``"``
are refused (`QueryError`) on every backend alike.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from sagebox.store.errors import QueryError
from sagebox.store.tables import resources

# Strings that "spell a number" (hyperparameters are strings, SageMaker compares them
# as numbers): JSON's number syntax with no surrounding space, an exponent of at most
# two digits and at most 100 characters, so that every backend (and Python) reads the
# same double from it without overflow.
NUMBER_TEXT: Final = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]{1,2})?")
NUMBER_TEXT_MAX_LENGTH: Final = 100
_PG_NUMBER_TEXT = "^" + NUMBER_TEXT.pattern + "$"

# SQLite's json_type names; PostgreSQL's jsonb_typeof says number/string/boolean.
_SQLITE_NUMBERS = ("integer", "real")
# The text[] path that selects a jsonb value itself: (value #>> '{}') is its text.
_PG_WHOLE = sa.literal_column("'{}'::text[]")


class JsonValue(ABC):
    """One JSON value in the current row, seen through SQL expressions.

    Every accessor yields NULL where the value is missing, so a comparison on
    it is never true there.
    """

    @abstractmethod
    def member(self, names: tuple[str, ...]) -> JsonValue:
        """The value reached from this one through object members ``names``."""

    @abstractmethod
    def elements(self) -> tuple[sa.FromClause, JsonValue, list[sa.ColumnElement[bool]]]:
        """Rows of this value's array elements (none unless it is an array).

        Returns the FROM item to select from, the element of the current row,
        and conditions that the WHERE clause of that select must include.
        """

    @abstractmethod
    def number(self) -> sa.ColumnElement[Any]:
        """The value as an SQL number if it is a JSON number, else NULL."""

    @abstractmethod
    def text(self) -> sa.ColumnElement[str]:
        """The value as SQL text compared byte by byte if it is a JSON string, else NULL."""

    @abstractmethod
    def boolean(self) -> sa.ColumnElement[Any]:
        """The value as an SQL boolean if it is JSON true or false, else NULL."""

    def spelled_number(self) -> sa.ColumnElement[Any]:
        """The value as a number if it is a JSON number or a string spelling one, else NULL."""
        return sa.func.coalesce(self.number(), self._text_as_number(self.text()))

    @abstractmethod
    def _text_as_number(self, text: sa.ColumnElement[str]) -> sa.ColumnElement[Any]:
        """The number ``text`` spells (`NUMBER_TEXT`), else NULL; NULL for NULL."""

    @abstractmethod
    def present(self) -> sa.ColumnElement[bool]:
        """True where the value exists and is not JSON null; never NULL itself."""


def document_value(dialect: str) -> JsonValue:
    """The whole Describe document of the current ``resources`` row."""
    if dialect == "sqlite":
        return _SQLiteMember(resources.c.document, ())
    if dialect == "postgresql":
        return _PostgresValue(resources.c.document)
    raise QueryError(f"document queries are not supported on {dialect!r}")


def contains_substring(
    dialect: str, text: sa.ColumnElement[str], substring: str
) -> sa.ColumnElement[bool]:
    """``text`` contains ``substring``, case-sensitively, with no wildcard characters."""
    find = sa.func.instr if dialect == "sqlite" else sa.func.strpos
    return find(text, sa.literal(substring, sa.Text())) > 0


def byte_ordered(dialect: str, text: sa.ColumnElement[str]) -> sa.ColumnElement[str]:
    """``text`` compared by bytes, as SQLite always does, not by PostgreSQL's locale."""
    return sa.collate(text, "C") if dialect == "postgresql" else text


def spelled_number(text: str) -> float | None:
    """The number a string spells, as the databases read it (`NUMBER_TEXT`), else None."""
    if len(text) > NUMBER_TEXT_MAX_LENGTH or NUMBER_TEXT.fullmatch(text) is None:
        return None
    return float(text)


def check_member_name(name: object) -> str:
    if not isinstance(name, str):
        raise QueryError(f"a member name must be a string, got {name!r}")
    if '"' in name:
        raise QueryError(f"member name {name!r}: names containing '\"' cannot be queried")
    check_no_nul(name, "member name")
    return name


def check_no_nul(text: str, what: str) -> str:
    """Refuse NUL characters: PostgreSQL text and jsonb cannot hold them, so none is stored."""
    if "\x00" in text:
        raise QueryError(f"{what} {text!r}: NUL characters cannot be queried")
    return text


def sqlite_path(names: tuple[str, ...]) -> str:
    """An SQLite JSON path of quoted labels, e.g. ``$."Metrics"."validation:auc"``."""
    labels = (json.dumps(check_member_name(name), ensure_ascii=True)[1:-1] for name in names)
    return "$" + "".join(f'."{label}"' for label in labels)


class _SQLiteMember(JsonValue):
    """The value at a path inside a JSON text (the document, or one array element)."""

    def __init__(self, container: sa.ColumnElement[Any], names: tuple[str, ...]) -> None:
        self._container = container
        self._names = names

    def _path(self) -> sa.BindParameter[str]:
        return sa.literal(sqlite_path(self._names), sa.Text())

    def _type(self) -> sa.ColumnElement[str]:
        return sa.func.json_type(self._container, self._path())

    def _extracted(self) -> sa.ColumnElement[Any]:
        return sa.func.json_extract(self._container, self._path())

    def member(self, names: tuple[str, ...]) -> JsonValue:
        return _SQLiteMember(self._container, self._names + names)

    def elements(self) -> tuple[sa.FromClause, JsonValue, list[sa.ColumnElement[bool]]]:
        return _sqlite_elements(sa.func.json_each(self._container, self._path()))

    def number(self) -> sa.ColumnElement[Any]:
        return sa.case((self._type().in_(_SQLITE_NUMBERS), self._extracted()))

    def text(self) -> sa.ColumnElement[str]:
        return sa.case((self._type() == "text", self._extracted()))

    def boolean(self) -> sa.ColumnElement[Any]:
        return _sqlite_boolean(self._type())

    def present(self) -> sa.ColumnElement[bool]:
        return sa.func.coalesce(self._type(), "null") != "null"

    def _text_as_number(self, text: sa.ColumnElement[str]) -> sa.ColumnElement[Any]:
        return _sqlite_text_as_number(text)


class _SQLiteElement(JsonValue):
    """The element of the ``json_each`` row being iterated."""

    def __init__(self, row: sa.TableValuedAlias) -> None:
        self._row = row

    def _type(self) -> sa.ColumnElement[str]:
        return self._row.c.type

    def _when(self, json_type: str) -> sa.ColumnElement[Any]:
        # json_extract and json_each raise on text that is not JSON, which is
        # what `value` holds for a string element: only containers go on.
        return sa.case((self._type() == json_type, self._row.c.value))

    def member(self, names: tuple[str, ...]) -> JsonValue:
        return _SQLiteMember(self._when("object"), names)

    def elements(self) -> tuple[sa.FromClause, JsonValue, list[sa.ColumnElement[bool]]]:
        return _sqlite_elements(sa.func.json_each(self._when("array")))

    def number(self) -> sa.ColumnElement[Any]:
        return sa.case((self._type().in_(_SQLITE_NUMBERS), self._row.c.atom))

    def text(self) -> sa.ColumnElement[str]:
        return sa.case((self._type() == "text", self._row.c.atom))

    def boolean(self) -> sa.ColumnElement[Any]:
        return _sqlite_boolean(self._type())

    def present(self) -> sa.ColumnElement[bool]:
        return self._type() != "null"

    def _text_as_number(self, text: sa.ColumnElement[str]) -> sa.ColumnElement[Any]:
        return _sqlite_text_as_number(text)


def _sqlite_elements(
    each: sa.Function[Any],
) -> tuple[sa.FromClause, JsonValue, list[sa.ColumnElement[bool]]]:
    rows = each.table_valued("key", "value", "type", "atom")
    # json_each also walks the members of an object and yields a scalar as one
    # row; only array elements have integer keys.
    return rows, _SQLiteElement(rows), [sa.func.typeof(rows.c.key) == "integer"]


def _sqlite_text_as_number(text: sa.ColumnElement[str]) -> sa.ColumnElement[Any]:
    """SQLite's strict JSON parser reads a JSON number; the GLOBs refuse surrounding
    space and exponents of three digits, as `NUMBER_TEXT` does."""
    shaped = sa.and_(
        sa.func.length(text) <= NUMBER_TEXT_MAX_LENGTH,
        text.op("GLOB")("[0-9-]*"),
        text.op("GLOB")("*[0-9]"),
        sa.not_(text.op("GLOB")("*[eE][0-9][0-9][0-9]*")),
        sa.not_(text.op("GLOB")("*[eE][+-][0-9][0-9][0-9]*")),
    )
    # Nested CASEs: json_type raises on text that is not JSON, so it runs only after
    # json_valid said the text is JSON.
    is_json = sa.case((sa.and_(shaped, sa.func.json_valid(text) == 1), sa.true()), else_=sa.false())
    number = sa.case(
        (sa.func.json_type(text).in_(_SQLITE_NUMBERS), sa.func.json_extract(text, "$"))
    )
    return sa.case((is_json, number))


def _sqlite_boolean(json_type: sa.ColumnElement[str]) -> sa.ColumnElement[Any]:
    return sa.case((json_type == "true", sa.true()), (json_type == "false", sa.false()))


class _PostgresValue(JsonValue):
    """A jsonb expression: the document, a member of it, or an array element."""

    def __init__(self, expression: sa.ColumnElement[Any]) -> None:
        self._expression = expression

    def _type(self) -> sa.ColumnElement[str]:
        return sa.func.jsonb_typeof(self._expression)

    def member(self, names: tuple[str, ...]) -> JsonValue:
        # One "->" per name rather than "#>" with a path: "#>" reads a name
        # such as "0" as an index into an array, "-> text" reaches object members only.
        expression = self._expression
        for name in names:
            key = sa.literal(check_member_name(name), sa.Text())
            expression = expression.op("->", return_type=postgresql.JSONB)(key)
        return _PostgresValue(expression)

    def elements(self) -> tuple[sa.FromClause, JsonValue, list[sa.ColumnElement[bool]]]:
        # jsonb_array_elements raises on anything but an array; NULL yields no rows.
        array = sa.case((self._type() == "array", self._expression))
        rows = sa.func.jsonb_array_elements(array).table_valued("value")
        return rows, _PostgresValue(rows.c.value), []

    def number(self) -> sa.ColumnElement[Any]:
        return sa.case(
            (self._type() == "number", sa.cast(self._expression, postgresql.DOUBLE_PRECISION))
        )

    def text(self) -> sa.ColumnElement[str]:
        unquoted = self._expression.op("#>>", return_type=sa.Text)(_PG_WHOLE)
        return sa.collate(sa.case((self._type() == "string", unquoted)), "C")

    def boolean(self) -> sa.ColumnElement[Any]:
        return sa.case((self._type() == "boolean", sa.cast(self._expression, sa.Boolean)))

    def _text_as_number(self, text: sa.ColumnElement[str]) -> sa.ColumnElement[Any]:
        shaped = sa.and_(
            sa.func.length(text) <= NUMBER_TEXT_MAX_LENGTH,
            text.op("~")(sa.literal(_PG_NUMBER_TEXT, sa.Text())),
        )
        # CASE evaluates the cast only for text the pattern accepted.
        return sa.case((shaped, sa.cast(text, postgresql.DOUBLE_PRECISION)))

    def present(self) -> sa.ColumnElement[bool]:
        return sa.func.coalesce(self._type(), "null") != "null"
