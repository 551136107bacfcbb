"""``from exptable_desktop.model import OutputModel`` as the reference's ``clearml.model`` (see ``sdk.model``)."""
from exptable_desktop.sdk.model import Framework, InputModel, Model, OutputModel

__all__ = ["Framework", "InputModel", "Model", "OutputModel"]
