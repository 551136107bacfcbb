"""The SDK a training script uses to record itself: ``from exptable_desktop import Task``."""
from exptable_desktop.sdk.logger import Logger
from exptable_desktop.sdk.task import Task, TaskStatusEnum, TaskTypes

__all__ = ["Task", "Logger", "TaskTypes", "TaskStatusEnum"]
