"""The SDK a training script uses to record itself: ``from exptable_desktop import Task``."""
import exptable_desktop as _package
from exptable_desktop.sdk import capture as _capture
from exptable_desktop.sdk.logger import Logger
from exptable_desktop.sdk.task import Task, TaskStatusEnum, TaskTypes

_capture.note_sdk_import(_package._MODULES_BEFORE)

__all__ = ["Task", "Logger", "TaskTypes", "TaskStatusEnum"]
