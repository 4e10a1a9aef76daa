"""``moto_server`` that refuses what DynamoDB refuses: the strict store's rules (strict_dynamodb),
installed before it serves. Same arguments as ``moto_server``, e.g.
``python -m decision_flows_local.dynamodb.strict_moto_server -p 8000``. The transaction journal of the
embedded store (moto_transactions) is left out: against a server, the local tooling has only the
DynamoDB API to rely on."""

from __future__ import annotations

from decision_flows_local.dynamodb import strict_dynamodb


def main(argv: list[str] | None = None) -> None:
    strict_dynamodb.install()
    from moto.server import main as serve

    serve(argv)


if __name__ == "__main__":
    main()
