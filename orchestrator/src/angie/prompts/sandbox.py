"""The Jinja2 sandbox every template of Angie's is compiled and rendered in, with bounds.

People write these templates (prompts, workflow steps) and they run in the process that also
runs the worker and the scheduler, so a template may not build a huge value (``"a" * 10**9``),
fold one at compile time, loop without end or print without end. Jinja2 folds constant
expressions while compiling, so the optimizer is off and the operators that can grow a value
are intercepted; loops, calls and printed values draw on a per-render budget of steps,
characters and time; the output is counted as it is produced.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import update_wrapper
from typing import Any

from jinja2 import Template, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from angie.prompts.tainted import Tainted, carries, taint

__all__ = (
    "MAX_OUTPUT",
    "MAX_RANGE",
    "MAX_SECONDS",
    "MAX_SOURCE",
    "MAX_STEPS",
    "MAX_VALUE",
    "BoundedSandbox",
    "TemplateLimit",
    "render_bounded",
)

#: Characters of template text.
MAX_SOURCE = 100_000
#: Characters (or items) of one value a template makes.
MAX_VALUE = 256 * 1024
#: Characters one render produces.
MAX_OUTPUT = 256 * 1024
#: Items of one ``range()``.
MAX_RANGE = 10_000
#: Loop iterations, calls and lookups of one render.
MAX_STEPS = 1_000_000
#: Characters one render may produce along the way (into variables and macro calls too).
MAX_PRODUCED = 4 * MAX_OUTPUT
#: Seconds one render may take.
MAX_SECONDS = 1.0
# Digits of an integer ``**`` may make (as bits: 10_000 digits).
_MAX_BITS = 33_220

# String methods whose result can be far bigger than their input; the filters of the same name
# (center, replace, join, format) are bounded instead.
_GROWING = frozenset(
    {"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join", "format",
     "format_map", "translate", "encode"}
)  # fmt: skip
# Filters whose numeric arguments are sizes, and the largest each may be: a JSON indent is
# repeated on every line, a batch or slice count makes that many lists.
_SIZED_ARGS = {"center": MAX_VALUE, "indent": MAX_VALUE, "batch": MAX_RANGE, "slice": MAX_RANGE,
               "tojson": 16}  # fmt: skip
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


class TemplateLimit(SecurityError):
    """A template would make, loop or print more than Angie allows; the message says what."""


@dataclass(slots=True)
class _Render:
    """What one render has used so far, and how outside values are fenced in it."""

    deadline: float
    fence: Callable[[str], str] | None = None
    steps: int = 0
    produced: int = 0

    def tick(self) -> None:
        self.steps += 1
        if self.steps > MAX_STEPS:
            raise TemplateLimit(f"it does more than {MAX_STEPS:,} steps (loops, calls, lookups)")
        if time.monotonic() > self.deadline:
            raise TemplateLimit(f"it takes more than {MAX_SECONDS:g} s to render")

    def produce(self, size: int) -> None:
        self.produced += size
        if self.produced > MAX_PRODUCED:
            raise TemplateLimit(f"it produces more than {MAX_PRODUCED:,} characters")


_RENDER: ContextVar[_Render | None] = ContextVar("angie_template_render", default=None)


def _tick() -> _Render | None:
    render = _RENDER.get()
    if render is not None:
        render.tick()
    return render


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple | dict) else None


def _check_size(size: int, what: str) -> None:
    if size > MAX_VALUE:
        raise TemplateLimit(f"{what} would be {size:,} long; the limit is {MAX_VALUE:,}")


def _check_arg(value: Any, what: str, limit: int) -> None:
    """A size given as a number, or as a text whose length counts (``indent="    "``)."""
    size = len(value) if isinstance(value, str) else value
    if isinstance(size, int) and not isinstance(size, bool) and abs(size) > limit:
        raise TemplateLimit(f"{what} is {size:,}; the limit is {limit:,}")


def _check_format(text: str) -> None:
    """Refuse ``%``-formats whose widths or precisions would make a huge text."""
    for match in _PERCENT.finditer(text):
        for number in match.groups():
            if number == "*":
                raise TemplateLimit("a %-format takes its width from an argument (`%*s`)")
            if number is not None and (len(number) > 7 or int(number) > MAX_VALUE):
                raise TemplateLimit(f"a %-format width of {number} is over {MAX_VALUE:,}")


def _check_binop(operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            size = _size(seq)
            if size is not None and isinstance(times, int) and not isinstance(times, bool):
                kind = "text" if isinstance(seq, str) else type(seq).__name__
                what = f"a {kind} of length {size:,} repeated {times:,} times"
                _check_size(size * times, what)
    elif operator == "+":
        a, b = _size(left), _size(right)
        if a is not None and b is not None:
            _check_size(a + b, "a concatenation")
    elif operator == "**" and isinstance(left, int) and isinstance(right, int):
        if abs(left) > 1 and right > 0 and right * abs(left).bit_length() > _MAX_BITS:
            raise TemplateLimit(f"{left} ** {right} is a number of over 10,000 digits")
    elif operator == "%" and isinstance(left, str):
        _check_format(left)


def _check_filter(name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Before a filter runs: refuse arguments that would make it build a huge value."""
    value, rest = (args[0], args[1:]) if args else (None, ())
    if name in _SIZED_ARGS:
        for arg in (*rest, *kwargs.values()):
            _check_arg(arg, f"the {name} filter's argument", _SIZED_ARGS[name])
    if name == "indent" and isinstance(value, str):
        width = rest[0] if rest else kwargs.get("width", 4)
        lines = value.count("\n") + 1
        _check_size(lines * (width if isinstance(width, int) else len(str(width))), "an indent")
    elif name == "replace" and isinstance(value, str) and len(rest) >= 2:
        old, new = str(rest[0]), str(rest[1])
        count = value.count(old) if old else len(value) + 1
        _check_size(len(value) + count * max(len(new) - len(old), 0), "a replace")
    elif name == "format" and isinstance(value, str):
        _check_format(value)
    elif name == "sum":
        start = rest[1] if len(rest) > 1 else kwargs.get("start", 0)
        if not isinstance(start, int | float):
            raise TemplateLimit("the sum filter adds numbers only")


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    # Filters that take the context (or environment) first get their value second.
    passes = 1 if getattr(func, "jinja_pass_arg", None) is not None else 0

    def bounded(*args: Any, **kwargs: Any) -> Any:
        _tick()
        own = args[passes:]
        if name == "join" and own:
            items = list(own[0])
            texts = [str(item) for item in items]
            sep = own[1] if len(own) > 1 else kwargs.get("d", "")
            _check_size(sum(map(len, texts)) + len(str(sep)) * len(texts), "a join")
            own = (items, *own[1:])
            args = (*args[:passes], *own)
        else:
            _check_filter(name, own, kwargs)
        result = func(*args, **kwargs)
        return _made(result, "the result of the " + name + " filter", (*own, *kwargs.values()))

    return update_wrapper(bounded, func)


def _made(result: Any, what: str, inputs: Iterable[Any]) -> Any:
    """A value a template made: refused when too big, marked when made from outside values."""
    size = _size(result)
    if size is not None:
        _check_size(size, what)
    render = _RENDER.get()
    outside = render is not None and render.fence is not None and not carries(result)
    if outside and any(carries(value) for value in inputs):
        return taint(result)
    return result


# The filter each loop's iterable goes through (Jinja2 has no custom nodes); a template may
# name it too, which only spends its own budget.
_ITERATE = "_iterate"


def _iterate(items: Iterable[Any], weight: int) -> Iterator[Any]:
    """A loop's items, each drawing on the render's budget (``weight``: the characters of
    template text the loop body prints each time)."""
    for item in items:
        render = _tick()
        if render is not None:
            render.produce(weight)
        yield item


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja2's code generator with ``~`` and slices going through the environment too."""

    def visit_Getitem(self, node: nodes.Getitem, frame: Frame) -> None:
        if not isinstance(node.arg, nodes.Slice):
            super().visit_Getitem(node, frame)
            return
        self.write("environment.getitem(")
        self.visit(node.node, frame)
        self.write(", slice(")
        for part in (node.arg.start, node.arg.stop, node.arg.step):
            if part is None:
                self.write("None")
            else:
                self.visit(part, frame)
            self.write(", ")
        self.write("))")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.joined((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


@pass_context
def _finalize(_context: Any, value: Any) -> Any:
    """Each printed value: fenced when made from outside values, and counted."""
    render = _RENDER.get()
    if render is None:
        return value
    if render.fence is not None and carries(value):
        value = render.fence(str(value))
    text = str(value)
    render.produce(len(text))
    return text


def _range(*args: int) -> range:
    made = range(*args)
    if len(made) > MAX_RANGE:
        raise TemplateLimit(f"a range of {len(made):,} items is over {MAX_RANGE:,}")
    return made


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """An immutable sandbox that compiles without folding constants and renders within bounds.

    Render with :func:`render_bounded`; a plain ``render()`` still has the size checks but no
    budget of steps, characters or time.
    """

    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "+", "**", "%"})

    def __init__(self, **options: Any) -> None:
        # Folding would compute `"a" * 10**9` while compiling, before any check can run.
        options["optimized"] = False
        # A finalize that takes the context also keeps printed constants from being folded.
        options["finalize"] = _finalize
        super().__init__(**options)
        self.globals.pop("lipsum", None)
        self.globals["range"] = _range
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.filters[_ITERATE] = _iterate

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        if len(source) > MAX_SOURCE:
            raise TemplateLimit(f"the template is {len(source):,} characters, over {MAX_SOURCE:,}")
        tree = super()._parse(source, name, filename)
        for loop in list(tree.find_all(nodes.For)):
            weight = 1 + sum(len(d.data) for n in loop.body for d in n.find_all(nodes.TemplateData))
            weighed = nodes.Const(weight, lineno=loop.lineno)
            loop.iter = nodes.Filter(
                loop.iter, _ITERATE, [weighed], [], None, None, lineno=loop.lineno
            )
        return tree

    def joined(self, parts: tuple[Any, ...]) -> str:
        """The ``~`` operator."""
        _tick()
        texts = [str(part) for part in parts]
        _check_size(sum(map(len, texts)), "a ~ concatenation")
        return _made("".join(texts), "a ~ concatenation", parts)  # type: ignore[no-any-return]

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str | bytes) and attr in _GROWING:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, str | bytes) and attribute in _GROWING:
            hint = f"the `{attribute}` filter" if attribute in self.filters else "a filter"
            return self.undefined(
                f"text's `.{attribute}()` can make a huge text; use {hint} instead",
                name=attribute,
                obj=obj,
                exc=SecurityError,
            )
        return super().unsafe_undefined(obj, attribute)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _tick()
        _check_binop(operator, left, right)
        result = super().call_binop(context, operator, left, right)
        return _made(result, f"the result of {operator}", (left, right))

    def getattr(self, obj: Any, attribute: str) -> Any:
        _tick()
        return self._marked(obj, super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        _tick()
        return self._marked(obj, super().getitem(obj, argument))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        result = super().call(__context, __obj, *args, **kwargs)
        owner = getattr(__obj, "__self__", None)
        return _made(result, "a call's result", (owner, *args, *kwargs.values()))

    @staticmethod
    def _marked(obj: Any, found: Any) -> Any:
        # A slice of outside text is outside text.
        if isinstance(obj, Tainted) and isinstance(found, str) and not isinstance(found, Tainted):
            return Tainted(found)
        return found


def render_bounded(
    template: Template, variables: Mapping[str, Any], *, fence: Callable[[str], str] | None = None
) -> str:
    """Render within the budget; ``fence`` wraps each printed value made from a :func:`taint`-ed
    one. Raises :class:`TemplateLimit` as soon as the template goes over a bound."""
    render = _Render(deadline=time.monotonic() + MAX_SECONDS, fence=fence)
    token = _RENDER.set(render)
    try:
        chunks: list[str] = []
        size = 0
        for chunk in template.generate(variables):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise TemplateLimit(f"its output is over {MAX_OUTPUT:,} characters")
            chunks.append(chunk)
        return "".join(chunks)
    except RecursionError as err:
        raise TemplateLimit("it calls itself too deeply") from err
    finally:
        _RENDER.reset(token)
