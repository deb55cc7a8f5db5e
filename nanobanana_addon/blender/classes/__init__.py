"""What Blender registers, declared thin: names, labels, tooltips and properties only.

Each module here mirrors a feature module of `blender/` that holds the code, loaded on
the first call Blender makes (`lazy.behaviour`). Enabling the add-on compiles these
declarations and nothing behind them (bench P3). Import nothing heavy here: no `core`
module, no feature module. No `from __future__ import annotations` either: with it,
`register_class` evaluates every property annotation from its string (one compile each,
~60 at enable); without it the class body makes the property at once.
"""
