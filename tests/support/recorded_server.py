"""`make serve`'s server, run by the tests with every DynamoDB call of its functions recorded.

``python -m tests.support.recorded_server``: the same server (``decision_flows_local.api.server``), with
a ``CallRecorder`` writing to the file ``$DYNAMODB_CALL_LOG`` names, so that the calls the functions
make behind HTTP are held against their policies too.
"""

from __future__ import annotations

import os
import runpy

from tests.support.dynamodb_calls import LOG_VARIABLE, CallRecorder

CallRecorder(log=os.environ[LOG_VARIABLE]).install()
runpy.run_module("decision_flows_local.api.server", run_name="__main__")
