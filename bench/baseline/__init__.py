"""The overhead benchmark's floor: minimal hand-written Lambda handlers, one per measured route.

Each takes the same API Gateway payload-2.0 event as the real handler, makes exactly the same
DynamoDB calls with a plain boto3 client (same operations, tables, keys, expressions and values,
the per-request rate-limit update included; bench/overhead_compare.py checks every call), and
returns the same response. Nothing else: no decision_flows, no Powertools, no pydantic. The real
handlers also validate configs and requests in full; these do only what their writes need
(canonical JSON, its hash, a config's node count and scoring method), so the difference is what the
service's code costs. Only the requests the benchmark sends are understood (no cursors, no status
filter, no If-Match).

- handlers.py: the routes, and what every handler does (identity, rate limit, role, errors)
- writes.py: the next state of a flow and the writes that store it (update, publish, rollback)
- views.py: the JSON the API answers with
- wire.py: the client, tables and keys, DynamoDB's item format by hand, pagination
"""
