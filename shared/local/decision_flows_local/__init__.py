"""Running the service on one machine, as API Gateway and Lambda would run it: template.yaml's
routes, authorizer and tables, turned into HTTP API v2 events. Never shipped to Lambda (it lives
outside the layer's folder, shared/layer/).

Why it exists: `sam local` needs Docker and has no DynamoDB stream event source mapping, and moto
runs no Lambda without Docker. So each part stands in for one piece of AWS:

- ``template``: template.yaml read with SAM's loader; every other part takes its facts from it.
- ``api/``: API Gateway and Lambda. ``gateway`` turns a request into the payload-2.0 event (and
  authorizer call) and runs the handler; ``server`` is `make serve`; ``invoke`` is `make invoke`
  (`sam local invoke`); ``openapi`` builds the document the server serves, ``openapi_json`` prints it.
- ``dynamodb/``: DynamoDB and its stream, the only home of moto internals. ``embedded`` is the
  in-memory store; ``moto_transactions`` and ``strict_dynamodb`` make moto atomic and as strict as
  DynamoDB, ``strict_moto_server`` serves that store to other processes; ``streams`` is the event
  source mapping, ``stream_health`` what `/health` says of it.
- ``fixtures/``: data for local runs, tests and benchmarks: sample configs, API keys, long histories.

It is kept small on purpose (tests/unit/local/test_local_size.py): it is tooling, not a second product.
"""
