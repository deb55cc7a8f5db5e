"""Registered classes whose behaviour loads on first use (bench P3: enabling compiles the
declarations only, not the code behind every button).

A thin class in `blender/classes/` declares what Blender registers: `bl_*` names, the
docstring (tooltip) and the properties. `@behaviour("operators:Generate", "poll",
"execute")` names a plain class in a feature module that holds the code and lists the
callbacks Blender may call; each gets a stub of the signature Blender checks. The first
stub called imports the feature module and copies that class's attributes (its bases
first) onto the registered class, so later calls, `self.helper()` and `cls.build()` run
the real code with no stub in between. Property callbacks (`update=`, `items=`, `get=`,
`set=`) take `function("module:name", n_args)`, a real function of the argument count
Blender checks that calls the named one.
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

PACKAGE = __package__                   # the add-on's blender/ package
ADDON = PACKAGE.rpartition(".")[0]
_PENDING: dict[type, str] = {}          # registered class -> "module:Behaviour" not yet copied


def resolve(path: str) -> Any:
    """"module:name" (a module of this package) -> the object."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(f"{PACKAGE}.{module}"), name)


def loaded(name: str) -> Any:
    """A module of the add-on ("blender.gallery", "core.pipeline") if something imported
    it, else None: what a stub, a header draw or a disable asks without loading it."""
    return sys.modules.get(f"{ADDON}.{name}")


def complete(cls: type) -> type:
    """Copy the behaviour named for `cls` onto it, once. Returns `cls`."""
    path = _PENDING.pop(cls, None)
    if path is None:
        return cls
    stubs = {k for k, v in vars(cls).items() if getattr(v, "_nb_stub", False)
             or getattr(getattr(v, "__func__", None), "_nb_stub", False)}
    impl = resolve(path)
    for base in reversed(impl.__mro__[:-1]):
        for key, value in vars(base).items():
            if not (key.startswith("__") or key.startswith("bl_")):
                setattr(cls, key, value)
                stubs.discard(key)
    if stubs:       # a declaration names a callback its behaviour lacks: say which
        raise TypeError(f"{path} has no {', '.join(sorted(stubs))} (declared on {cls.__name__})")
    return cls


def _mark(fn: Callable) -> Callable:
    fn._nb_stub = True      # type: ignore[attr-defined]
    return fn


def _self_context(name: str) -> Callable:
    def stub(self, context):
        complete(type(self))
        return getattr(self, name)(context)
    return _mark(stub)


def _self_context_event(name: str) -> Callable:
    def stub(self, context, event):
        complete(type(self))
        return getattr(self, name)(context, event)
    return _mark(stub)


def _cls_context(name: str) -> classmethod:
    def stub(cls, context):
        return getattr(complete(cls), name)(context)
    return classmethod(_mark(stub))


def _cls_context_properties(name: str) -> classmethod:
    def stub(cls, context, properties):
        return getattr(complete(cls), name)(context, properties)
    return classmethod(_mark(stub))


_STUBS = {"execute": _self_context, "draw": _self_context, "draw_header": _self_context,
          "cancel": _self_context, "check": _self_context,
          "invoke": _self_context_event, "modal": _self_context_event,
          "poll": _cls_context, "description": _cls_context_properties}


def behaviour(path: str, *callbacks: str) -> Callable[[type], type]:
    """Class decorator for a registered class: its code is `path`'s class, loaded when
    Blender first calls one of `callbacks`."""
    def decorate(cls: type) -> type:
        for name in callbacks:
            setattr(cls, name, _STUBS[name](name))
        _PENDING[cls] = path
        return cls
    return decorate


def function(path: str, n_args: int, persistent: bool = False) -> Callable:
    """A callback Blender can check (its argument count) that runs `path` when called:
    property `update=`/`items=`/`get=`/`set=`, a timer (0 args), an app handler (2 args;
    `persistent=True` keeps it across file loads, as `bpy.app.handlers.persistent`)."""
    if n_args == 0:
        def call():
            return resolve(path)()
    elif n_args == 1:
        def call(a):            # type: ignore[misc]
            return resolve(path)(a)
    elif n_args == 2:
        def call(a, b):         # type: ignore[misc]
            return resolve(path)(a, b)
    elif n_args == 3:
        def call(a, b, c):      # type: ignore[misc]
            return resolve(path)(a, b, c)
    else:
        raise ValueError(n_args)
    call.__name__ = path.rpartition(":")[2]
    if persistent:
        from bpy.app.handlers import persistent as keep
        return keep(call)
    return call
