"""Find user-facing text that is not marked for translation, in templates and in Python.

Run it alone to list every finding, allowlisted or not: ``.venv/bin/python -m tests.i18n_scan``;
``tests/test_marked_strings.py`` fails on those not in ``tests/i18n-allowlist.txt``.

Templates: the text between tags and the user-facing attributes (``alt``, ``title``,
``placeholder``, ``aria-label``, ``data-progress``...) outside ``{% translate %}``,
``{% blocktranslate %}`` and ``{% comment %}``. Template tags and variables stand in as nothing,
so ``Sign in to {{ name }}`` is found as "Sign in to".

Python: string literals (plain, f-strings, ``"..." % x``, ``"..." + "..."``) where Django shows them
to a person, unless wrapped in a gettext function: the message of ``messages.success()`` and its
siblings, of ``ValidationError`` and of this project's user-facing errors (``USER_FACING_CALLS``);
the keyword arguments ``label``, ``help_text``, ``verbose_name``, ``verbose_name_plural``,
``empty_label``, ``description`` (admin actions and columns) and ``empty_value_display``; the
values of ``error_messages={...}``; the labels of ``TextChoices``/``IntegerChoices`` members; and
the values of context keys that templates print as text (``CONTEXT_KEYS``); the arguments of this
project's own constructors listed in ``POSITIONAL`` (an SSO connection field's label, a password
rule's text); and assignments to names like the keywords (``redirect_help``), to the admin site's
titles and to constants named ``*MESSAGE`` or ``*_HELP``.
"""

import ast
import re
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from django.template.base import DebugLexer, TokenType

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_DIRS = ["templates"]
PYTHON_DIRS = ["accounts", "signin", "sso", "connect_portal", "applications", "mitel_portal"]
# Not seen by people in a browser or a mail: the database's history and operators' commands.
PYTHON_SKIP = re.compile(r"(^|/)(migrations|management)/")
ALLOWLIST = Path(__file__).with_name("i18n-allowlist.txt")

ATTRIBUTES = {"alt", "title", "placeholder", "aria-label", "aria-description", "data-progress",
              "label", "summary"}
GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext",
           "pgettext_lazy", "npgettext", "npgettext_lazy", "format_lazy"}
MESSAGE_CALLS = {"debug", "info", "success", "warning", "error"}
USER_FACING_CALLS = {"ValidationError", "MfaError", "InvitationError", "PermissionDenied",
                     "MembershipError", "DomainError", "UserError", "PortalError"}
# Calls whose positional arguments at these places are shown to people.
POSITIONAL = {"ConnectionField": (1,), "Rule": (1,), "Notice": (0, 1), "Refusal": (0, 1, 2)}
KEYWORDS = {"label", "help_text", "verbose_name", "verbose_name_plural", "empty_label",
            "description", "description_plural", "empty_value_display", "title", "redirect_help",
            "what_to_do", "message", "headline", "sentence"}
CONTEXT_KEYS = {"title", "intro", "button", "message", "what_to_do", "heading", "subtitle"}
ADMIN_SITE_TEXT = {"site_header", "site_title", "index_title"}
LETTERS = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def normal(text: str) -> str:
    return " ".join(text.split())


def is_text(text: str) -> bool:
    return bool(LETTERS.search(text))


# --- templates -----------------------------------------------------------------------------------

TRANSLATED_BLOCKS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans",
                     "comment": "endcomment", "verbatim": "endverbatim"}


def template_markup(source: str) -> str:
    """The template with tags and variables removed and translated blocks blanked (lines kept)."""
    out, closing = [], None
    for token in DebugLexer(source).tokenize():
        raw = source[token.position[0]:token.position[1]] if token.position else token.contents
        keep_lines = "\n" * raw.count("\n")
        if closing:
            if token.token_type is TokenType.BLOCK and token.contents.split()[0] == closing:
                closing = None
            out.append(keep_lines)
            continue
        if token.token_type is TokenType.BLOCK:
            bits = token.contents.split()
            name = bits[0] if bits else ""
            if name in TRANSLATED_BLOCKS:
                closing = TRANSLATED_BLOCKS[name]
            elif name == "block" and len(bits) > 1 and bits[1].endswith("class"):
                closing = "endblock"  # {% block main_class %}card wide{% endblock %}: CSS classes
            out.append(keep_lines + "\x00")  # a tag's place: separates words, stands for nothing
        elif token.token_type is TokenType.TEXT:
            out.append(raw)
        else:
            out.append(keep_lines + "\x00")
    return "".join(out)


class TextNodes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._skip += 1
        for name, value in attrs:
            if name in ATTRIBUTES and value and is_text(value.replace("\x00", " ")):
                self.found.append((self.getpos()[0], value))

    def handle_endtag(self, tag):
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and is_text(data.replace("\x00", " ")):
            self.found.append((self.getpos()[0] + data[:len(data) - len(data.lstrip())].count("\n"),
                               data))


def scan_template(path: Path) -> list[Finding]:
    parser = TextNodes()
    parser.feed(template_markup(path.read_text()))
    parser.close()
    rel = path.relative_to(ROOT).as_posix()
    return [Finding(rel, line, normal(text.replace("\x00", " "))) for line, text in parser.found]


# --- Python --------------------------------------------------------------------------------------

def literals(node: ast.AST) -> list[ast.AST]:
    """The unwrapped string literals an expression is made of (none when it calls gettext)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node] if is_text(node.value) else []
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        return [node] if is_text(text) else []
    if isinstance(node, ast.BinOp):
        return literals(node.left) + (literals(node.right) if isinstance(node.op, ast.Add) else [])
    if isinstance(node, ast.IfExp):
        return literals(node.body) + literals(node.orelse)
    if isinstance(node, ast.BoolOp):
        return [found for value in node.values for found in literals(value)]
    if isinstance(node, ast.Call) and callee(node) == "str" and node.args:
        return literals(node.args[0])
    return []


def callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def literal_text(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):
        return node.value
    return "".join(v.value if isinstance(v, ast.Constant) else "{…}" for v in node.values)


class PythonStrings(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: list[ast.AST] = []

    def add(self, node: ast.AST | None) -> None:
        if node is not None:
            self.found.extend(literals(node))

    def visit_Call(self, node: ast.Call) -> None:
        name = callee(node)
        if name in GETTEXT:
            return  # marked; its arguments are the msgids
        receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
        if name in MESSAGE_CALLS and isinstance(receiver, ast.Name) and receiver.id == "messages":
            self.add(node.args[1] if len(node.args) > 1 else None)
        elif name == "message_user" and len(node.args) > 1:  # the admin's own messages
            self.add(node.args[1])
        elif name == "add_message" and len(node.args) > 2:
            self.add(node.args[2])
        elif name in USER_FACING_CALLS or name.endswith(("Refused", "Violation")):
            self.add(node.args[0] if node.args else None)
        for index in POSITIONAL.get(name, ()):
            self.add(node.args[index] if len(node.args) > index else None)
        for keyword in node.keywords:
            if keyword.arg in KEYWORDS:
                self.add(keyword.value)
            elif keyword.arg == "error_messages" and isinstance(keyword.value, ast.Dict):
                for value in keyword.value.values:
                    self.add(value)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        """A translation function under a name of its own (``gettext_lazy as _lazy``): its strings
        look marked here, but ``makemessages`` reads only the usual names, so they never reach
        the catalogues and stay English in every language."""
        if node.module == "django.utils.translation":
            for alias in node.names:
                if alias.name in GETTEXT and alias.asname and alias.asname not in GETTEXT:
                    self.found.append(ast.Constant(value=f"{alias.name} as {alias.asname}",
                                                   lineno=node.lineno))

    def visit_Assign(self, node: ast.Assign) -> None:
        """Class attributes a template or the admin prints: ``redirect_help = "..."``."""
        if any(isinstance(t, ast.Name) and (t.id in KEYWORDS or t.id in ADMIN_SITE_TEXT
                                            or t.id.endswith(("MESSAGE", "_HELP")))
               for t in node.targets):
            self.add(node.value)
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value in CONTEXT_KEYS:
                self.add(value)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        bases = {b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", "") for b in node.bases}
        if bases & {"TextChoices", "IntegerChoices", "Choices"}:
            for statement in node.body:
                if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Tuple) \
                        and len(statement.value.elts) > 1:
                    self.add(statement.value.elts[-1])
        self.generic_visit(node)


def scan_python(path: Path) -> list[Finding]:
    visitor = PythonStrings()
    visitor.visit(ast.parse(path.read_text(), filename=str(path)))
    rel = path.relative_to(ROOT).as_posix()
    return [Finding(rel, node.lineno, normal(literal_text(node))) for node in visitor.found]


# --- the whole project ---------------------------------------------------------------------------

def scan() -> list[Finding]:
    findings: list[Finding] = []
    for folder in TEMPLATE_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in {".html", ".txt"}:
                findings += scan_template(path)
    for folder in PYTHON_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if not PYTHON_SKIP.search(path.relative_to(ROOT).as_posix()):
                findings += scan_python(path)
    return sorted(set(findings))


def allowlist() -> list[tuple[str, str]]:
    """``(path or "*", text)`` pairs: ``path: text`` lines, ``*: text`` for anywhere; # comments."""
    entries = []
    for line in ALLOWLIST.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            where, _, text = line.partition(": ")
            entries.append((where.strip(), normal(text)))
    return entries


def allowed(finding: Finding, entries: list[tuple[str, str]]) -> bool:
    for where, text in entries:
        if where in {"*", finding.path} and text == finding.text:
            return True
        if where == finding.path and text == "*":  # a whole file, not yet marked
            return True
    return False


def unmarked() -> list[Finding]:
    entries = allowlist()
    return [finding for finding in scan() if not allowed(finding, entries)]


if __name__ == "__main__":
    import django

    sys.path.insert(0, str(ROOT))
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mitel_portal.settings")
    django.setup()
    every = "--all" in sys.argv
    results = scan() if every else unmarked()
    for finding in results:
        print(finding)
    print(f"{len(results)} {'strings' if every else 'unmarked strings not in the allowlist'}",
          file=sys.stderr)
