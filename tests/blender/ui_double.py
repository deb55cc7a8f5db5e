"""A test double for Blender's UILayout: records what a panel's draw() would show.

Panels cannot be drawn headless (no window), so tests call the same draw functions with
this recorder and assert on the labels, properties and operators it collected."""
from __future__ import annotations


class _OpProps:
    def __init__(self, layout, op):
        object.__setattr__(self, "_layout", layout)
        object.__setattr__(self, "_op", op)

    def __setattr__(self, name, value):
        self._layout.root.op_props.append((self._op, name, value))


class Layout:
    def __init__(self, root=None):
        self.root = root or self
        if root is None:
            self.labels, self.props, self.operators, self.op_props, self.progress_bars = [], [], [], [], []

    def _child(self, *a, **k):
        return Layout(self.root)

    row = column = box = split = column_flow = grid_flow = _child

    def label(self, text="", icon="NONE", **k):
        self.root.labels.append(text)

    def prop(self, data, prop, **k):
        self.root.props.append(prop)

    def operator(self, op, text="", icon="NONE", **k):
        self.root.operators.append(op)
        return _OpProps(self, op)

    def progress(self, factor=0.0, type="BAR", text=""):
        self.root.progress_bars.append((factor, text))

    def separator(self, **k):
        pass

    def template_list(self, *a, **k):
        pass

    def template_icon(self, *a, **k):
        pass

    def template_ID(self, *a, **k):
        pass

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)

    def text(self) -> str:
        return "\n".join(self.root.labels)
