"""indi_eval's expression language, parsed into a small tree and evaluated safely.

Pure: no I/O. The text is never given to Python's ``eval``: a tokenizer and a precedence-climbing
parser build a tree of exactly five node kinds (constant, operand, unary, binary, call), whose
functions come from a fixed table, and the evaluator knows only those nodes. Anything else is an
:class:`ExpressionError` saying what and where.

The language is indilib's (INDI ``tools/compiler.c``): C-style arithmetic on doubles;
operands ``"device.property.element"`` in double quotes (exactly two dots); operators
``! + - * / && || > >= == != < <=`` with C's precedence (``||`` lowest, then ``&&``, equality,
relations, ``+ -``, ``* /``, and the unary ``- ! +`` binding tightest) and left associativity,
so ``a < b < c`` is ``(a < b) < c``; comparisons and logic give 1 or 0; the constant ``pi`` and
the functions ``sin cos tan asin acos atan atan2(y,x) abs floor degrad raddeg log log10 exp sqrt
pow(x,y)``. Arithmetic follows C doubles: division by zero gives ``inf`` or ``nan``, ``sqrt(-1)``
is ``nan``, ``log(0)`` is ``-inf``, overflow is ``inf``; nothing raises.

Differences from indilib, on purpose: two operands or constants in a row (``1 2``) are refused
when compiled (indilib accepts them and fails when evaluating, also with exit 2); indilib's
limits of 32 opcodes and 63-character operand names are replaced by a cap of
:data:`MAX_LENGTH` characters and :data:`MAX_DEPTH` levels of nesting; function names must be
whole words (indilib takes ``sinx`` as ``sin`` followed by garbage).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Binary",
    "Call",
    "Constant",
    "Expression",
    "ExpressionError",
    "Node",
    "Operand",
    "Unary",
    "compile_expression",
    "format_g",
]

MAX_LENGTH = 10_000
MAX_DEPTH = 100


class ExpressionError(ValueError):
    """An expression that cannot be compiled or evaluated; the message says why."""


# ---------------------------------------------------------------------------- the tree


@dataclass(frozen=True, slots=True)
class Constant:
    value: float


@dataclass(frozen=True, slots=True)
class Operand:
    name: str  # "device.property.element"


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-" or "!"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    args: tuple[Node, ...]


Node = Constant | Operand | Unary | Binary | Call


# ---------------------------------------------------------------------------- C-like math

# The NaN the FPU gives for an invalid operation (0/0, sqrt(-1)): on x86 it has its sign bit
# set and glibc prints it "-nan", as indi_eval shows; computed, not assumed, for other machines.
_INVALID = math.inf - math.inf


def _divide(a: float, b: float) -> float:
    if b != 0:
        return a / b
    if math.isnan(a) or math.isnan(b):
        return a + b  # a NaN operand propagates as it is
    if a == 0:
        return _INVALID
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _log(fn: Callable[[float], float]) -> Callable[[float], float]:
    def c_log(x: float) -> float:
        if x == 0:
            return -math.inf
        if math.isnan(x):
            return x
        if x < 0:
            return _INVALID
        return fn(x)

    return c_log


def _domain(fn: Callable[[float], float]) -> Callable[[float], float]:
    """``fn`` with C's answers instead of exceptions: nan outside its domain, inf on overflow."""

    def c_fn(x: float) -> float:
        try:
            return fn(x)
        except ValueError:
            return _INVALID
        except OverflowError:
            return math.inf

    return c_fn


def _floor(x: float) -> float:
    return x if not math.isfinite(x) else float(math.floor(x))


def _odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0


def _pow(x: float, y: float) -> float:
    try:
        return math.pow(x, y)
    except OverflowError:
        return -math.inf if x < 0 and _odd_integer(y) else math.inf
    except ValueError:
        if x == 0:  # 0 to a negative power: a pole, signed like C's pow
            return math.copysign(math.inf, x) if _odd_integer(y) else math.inf
        return _INVALID  # a negative base to a non-integer power


_ONE_ARG: dict[str, Callable[[float], float]] = {
    "abs": math.fabs,
    "floor": _floor,
    "sin": _domain(math.sin),
    "cos": _domain(math.cos),
    "tan": _domain(math.tan),
    "asin": _domain(math.asin),
    "acos": _domain(math.acos),
    "atan": math.atan,
    "degrad": lambda x: x * (math.atan(1.0) / 45.0),
    "raddeg": lambda x: x * (45.0 / math.atan(1.0)),
    "log": _log(math.log),
    "log10": _log(math.log10),
    "exp": _domain(math.exp),
    "sqrt": lambda x: _INVALID if x < 0 else math.sqrt(x),
}
_TWO_ARGS: dict[str, Callable[[float, float], float]] = {
    "pow": _pow,
    "atan2": math.atan2,
}


def _use_c_library() -> None:
    """Take the functions from the C maths library itself where there is one (glibc).

    indi_eval calls libm: with the same library every value, and even the sign of a NaN
    outside a function's domain (glibc's ``asin(2)`` is ``nan``, ``sqrt(-1)`` is ``-nan``), is
    the same as indi_eval's. Without one the Python versions above give the same numbers.
    """
    try:
        import ctypes

        libm = ctypes.CDLL("libm.so.6")
    except (ImportError, OSError):
        return
    for name in ("sin", "cos", "tan", "asin", "acos", "atan", "log", "log10", "exp", "sqrt"):
        function = getattr(libm, name)
        function.restype = ctypes.c_double
        function.argtypes = [ctypes.c_double]
        _ONE_ARG[name] = function
    for name in ("pow", "atan2"):
        function = getattr(libm, name)
        function.restype = ctypes.c_double
        function.argtypes = [ctypes.c_double, ctypes.c_double]
        _TWO_ARGS[name] = function


_use_c_library()


def _truth(x: float) -> bool:
    return x != 0  # C: any non-zero double (nan too) is true


_BINARY: dict[str, Callable[[float, float], float]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
    "&&": lambda a, b: float(_truth(a) and _truth(b)),
    "||": lambda a, b: float(_truth(a) or _truth(b)),
    ">": lambda a, b: float(a > b),
    ">=": lambda a, b: float(a >= b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "<": lambda a, b: float(a < b),
    "<=": lambda a, b: float(a <= b),
}
# compiler.c's precedence table: higher binds tighter; unary operators bind tightest of all.
_PRECEDENCE = {"||": 1, "&&": 2, "==": 3, "!=": 3, ">": 4, ">=": 4, "<": 4, "<=": 4,
               "+": 5, "-": 5, "*": 6, "/": 6}


# ---------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
      | "(?P<operand>[^"]*)"
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>&&|\|\||==|!=|>=|<=|[-+*/()<>!,])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "operand", "name", "op", "end"
    text: str
    pos: int


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    end = len(text.rstrip())
    while pos < end:
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            start = pos + (len(text[pos:]) - len(text[pos:].lstrip()))
            snippet = text[start : start + 10]
            if text[start] == '"':
                raise ExpressionError(f"an operand without its closing quote near {snippet!r}")
            raise ExpressionError(f"syntax error near {snippet!r}")
        kind = match.lastgroup
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


# ---------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def near(self, token: _Token) -> str:
        return f"near {self.text[token.pos : token.pos + 10]!r}" if token.kind != "end" else "at the end"

    def expect(self, text: str, what: str) -> None:
        token = self.take()
        if token.kind != "op" or token.text != text:
            raise ExpressionError(f"expected {what} {self.near(token)}")

    def expression(self, min_precedence: int = 1) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"expression nested more than {MAX_DEPTH} levels deep")
        left = self.unary()
        while True:
            token = self.peek()
            precedence = _PRECEDENCE.get(token.text) if token.kind == "op" else None
            if precedence is None or precedence < min_precedence:
                break
            self.take()
            right = self.expression(precedence + 1)
            left = Binary(token.text, left, right)
        self.depth -= 1
        return left

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == "op" and token.text in ("-", "!", "+"):
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise ExpressionError(f"expression nested more than {MAX_DEPTH} levels deep")
            if self.peek().kind == "end":
                raise ExpressionError(f"a term is expected after unary {token.text}")
            operand = self.unary()
            self.depth -= 1
            return operand if token.text == "+" else Unary(token.text, operand)
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            return Constant(float(token.text))
        if token.kind == "operand":
            name = token.text
            if name.count(".") != 2 or any(not part for part in name.split(".")):
                raise ExpressionError(
                    f"operand {name!r} must be \"device.property.element\" (two dots)"
                )
            return Operand(name)
        if token.kind == "name":
            return self.call(token)
        if token.kind == "op" and token.text == "(":
            if self.peek().kind == "op" and self.peek().text == ")":
                raise ExpressionError(f"an empty pair of parentheses {self.near(token)}")
            inner = self.expression()
            self.expect(")", "')'")
            return inner
        if token.kind == "end":
            raise ExpressionError("a term is expected at the end of the expression")
        raise ExpressionError(f"a term is expected {self.near(token)}")

    def call(self, token: _Token) -> Node:
        name = token.text
        if name == "pi":
            return Constant(math.pi)
        if name in _ONE_ARG:
            count = 1
        elif name in _TWO_ARGS:
            count = 2
        else:
            raise ExpressionError(f"unknown function {name!r}")
        self.expect("(", f"'(' after {name}")
        args = [self.expression()]
        for _ in range(count - 1):
            self.expect(",", f"',' between the arguments of {name}")
            args.append(self.expression())
        self.expect(")", f"')' closing the arguments of {name} ({count} expected)")
        return Call(name, tuple(args))


# ---------------------------------------------------------------------------- the compiled form


class Expression:
    """A compiled expression: its operand names and an evaluator over their values.

    The tree is flattened into a postfix program run on a value stack, so a long chain such as
    ``1+1+...+1`` costs no recursion when it is evaluated.
    """

    def __init__(self, text: str, tree: Node) -> None:
        self.text = text
        self.tree = tree
        program: list[Node] = []
        names: dict[str, None] = {}
        pending: list[tuple[Node, bool]] = [(tree, False)]
        while pending:
            node, children_done = pending.pop()
            if isinstance(node, Constant | Operand):
                program.append(node)
                if isinstance(node, Operand):
                    names.setdefault(node.name, None)
            elif children_done:
                program.append(node)
            else:
                pending.append((node, True))
                if isinstance(node, Unary):
                    pending.append((node.operand, False))
                elif isinstance(node, Binary):
                    pending.extend(((node.right, False), (node.left, False)))
                else:
                    pending.extend((arg, False) for arg in reversed(node.args))
        self._program = tuple(program)
        self._operands = tuple(names)

    @property
    def operands(self) -> tuple[str, ...]:
        """The operand names, in order of first appearance."""
        return self._operands

    @property
    def devices(self) -> tuple[str, ...]:
        """The devices the operands name, in order of first appearance."""
        seen: dict[str, None] = {}
        for name in self._operands:
            seen.setdefault(name.split(".", 1)[0], None)
        return tuple(seen)

    def evaluate(self, values: Mapping[str, float]) -> float:
        """The value of the expression; raises ExpressionError for an operand with no value."""
        stack: list[float] = []
        push = stack.append
        for node in self._program:
            if isinstance(node, Constant):
                push(node.value)
            elif isinstance(node, Operand):
                try:
                    push(values[node.name])
                except KeyError:
                    raise ExpressionError(f"no value for {node.name}") from None
            elif isinstance(node, Unary):
                value = stack.pop()
                push(-value if node.op == "-" else float(value == 0))
            elif isinstance(node, Binary):
                right = stack.pop()
                push(_BINARY[node.op](stack.pop(), right))
            elif len(node.args) == 1:
                push(_ONE_ARG[node.function](stack.pop()))
            else:
                second = stack.pop()
                push(_TWO_ARGS[node.function](stack.pop(), second))
        return stack[0]

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


def compile_expression(text: str) -> Expression:
    """Compile indi_eval's expression language; raises ExpressionError saying what is wrong."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ExpressionError("empty expression")
    parser = _Parser(text)
    tree = parser.expression()
    token = parser.peek()
    if token.kind != "end":
        if token.kind == "op" and token.text == ")":
            raise ExpressionError(f"too many right parentheses {parser.near(token)}")
        raise ExpressionError(f"an operator is expected {parser.near(token)}")
    return Expression(text, tree)


def format_g(value: float) -> str:
    """``value`` as C's ``printf("%g")`` writes it (glibc prints a negative nan as ``-nan``)."""
    if math.isnan(value) and math.copysign(1.0, value) < 0:
        return "-nan"
    return "%g" % value  # noqa: UP031  # printf semantics are the point
