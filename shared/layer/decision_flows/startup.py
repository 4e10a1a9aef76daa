"""A function's init with the cyclic garbage collector held off: every handler imports this first.

Loading boto3, powertools, pydantic and our modules leaves some 90 000 objects the collector tracks,
which live as long as the function does. With the collector on, allocation bursts trigger collections
that rescan the ones already loaded: about 30 ms of PublishFunction's 310 ms init, and 17 ms of the
floor's 180 (docs/PERFORMANCE.md, "Cold start"). The handler module's last statement calls
``modules_loaded``: collections resume, and what init built is frozen out of them (``gc.freeze``), so
that no later collection rescans it either. Init builds no garbage cycles worth collecting, and what
it built stays for the function's life, as its modules do.

For the same reason, the records a function's init defines are NamedTuples or plain classes, not
dataclasses: a frozen dataclass compiles its methods from source, 0.5 to 0.75 ms each, a NamedTuple
≈0.08 ms (Lambda-like runtime; tests/unit/test_function_inits.py holds it).
"""

import gc

gc.disable()


def modules_loaded() -> None:
    """The handler's modules are loaded: freeze what they built, and let the collector run again."""
    gc.freeze()
    gc.enable()
