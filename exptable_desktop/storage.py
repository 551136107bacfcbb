"""``from exptable_desktop.storage import StorageManager`` as the reference's ``clearml.storage`` (see ``sdk.storage``)."""
from exptable_desktop.sdk.storage import StorageError, StorageManager

__all__ = ["StorageError", "StorageManager"]
