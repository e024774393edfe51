"""The screens of the Courier app, one module each.

Import a screen from its own module (``from tui.screens.sources import
SourcesScreen``); this package imports nothing so the first paint only pays
for the screens it shows.
"""
