"""The screens of the Courier app."""

from tui.screens.confirm import ConfirmScreen
from tui.screens.courier_editor import CourierEditorScreen
from tui.screens.credential import CredentialScreen
from tui.screens.help import HelpScreen
from tui.screens.run_courier import RunCourierScreen
from tui.screens.sources import SourcesScreen

__all__ = ["ConfirmScreen", "CourierEditorScreen", "CredentialScreen", "HelpScreen", "RunCourierScreen", "SourcesScreen"]
