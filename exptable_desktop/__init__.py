"""ExpTable Desktop: a local-first experiment manager."""
__version__ = "0.1.0"


def __getattr__(name):
    # ``from exptable_desktop import Task`` without paying for the SDK on every CLI start.
    if name in ("Task", "Logger"):
        from exptable_desktop import sdk
        return getattr(sdk, name)
    raise AttributeError(name)
