"""Checkboxes and radio buttons that read without colour (issue 14, item 2).

Textual draws both as a coloured block (``▐X▌``, ``▐●▌``) whose only difference between on and off is
its colour, which a monochrome terminal (``TERM=vt100``), ``NO_COLOR`` or a screen reader loses. These
draw ``[x]``/``[ ]`` and ``(•)``/``( )`` instead; the styles stay the theme's.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox, RadioButton


class Tickbox(Checkbox):
    """A checkbox drawn ``[x]`` when ticked and ``[ ]`` when not."""

    @property
    def _button(self) -> Content:
        return Content.assemble(("[x]" if self.value else "[ ]", self.get_visual_style("toggle--button")))


class RadioChoice(RadioButton):
    """A radio button drawn ``(•)`` when chosen and ``( )`` when not."""

    @property
    def _button(self) -> Content:
        return Content.assemble(("(•)" if self.value else "( )", self.get_visual_style("toggle--button")))
