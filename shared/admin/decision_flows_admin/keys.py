"""Manage API keys: ``python -m decision_flows_admin.keys create|list|revoke``.

    python -m decision_flows_admin.keys create --tenant tenant-a --role admin --name ci [--env live|test]
    python -m decision_flows_admin.keys list   --tenant tenant-a
    python -m decision_flows_admin.keys revoke --tenant tenant-a --key-id key_0123456789ab

The table is ``--table`` or else ``API_KEYS_TABLE_NAME``; there is no default, so that a key is
never written to a table nobody chose. DynamoDB is reached as the functions reach it: through
``DYNAMODB_ENDPOINT_URL`` when set (a local store), else AWS with the usual credentials and
region (``AWS_PROFILE``, ``AWS_REGION``, ...).

``create`` prints the key once; only its SHA-256 hash is stored, so it cannot be shown again.
``list`` and ``revoke`` never print a key or its hash.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, TextIO

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field, TypeAdapter, ValidationError

from decision_flows.dal.api_keys import ApiKeyRepository
from decision_flows.dal.store_errors import error_code
from decision_flows.domain.api_keys import new_api_key
from decision_flows.domain.clock import timestamp, utc_now
from decision_flows.domain.errors import DomainError
from decision_flows.environment import TABLE_NAME_CHARACTERS, TABLE_NAME_LENGTHS
from decision_flows.models.api_key import ApiKey, TenantId
from decision_flows.models.identity import Role

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ROLES = [role.name.lower() for role in Role]
_tenant_id: TypeAdapter[str] = TypeAdapter(TenantId)
# DynamoDB's rule for table names, as the functions' settings apply it (decision_flows.environment).
TableName = Annotated[
    str,
    Field(min_length=TABLE_NAME_LENGTHS.start, max_length=TABLE_NAME_LENGTHS.stop - 1, pattern=TABLE_NAME_CHARACTERS),
]
_table_name: TypeAdapter[str] = TypeAdapter(TableName)


class UsageError(Exception):
    """Something the command line got wrong that argparse cannot see (exit 1)."""


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) and argparse's usage errors (2), returned not raised
        return exit_.code if isinstance(exit_.code, int) else 1
    table = args.table
    try:
        table = _table(args.table)
        repository = ApiKeyRepository(_client(), table)
        result: int = args.run(args, repository, sys.stdout)
        return result
    except UsageError as error:
        return _fail(str(error))
    except DomainError as error:
        return _fail(f"{error.code}: {error.detail}")
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in error.errors())
        return _fail(f"invalid input: {problems}")
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return _fail(f"DynamoDB table {table!r} not found (check --table / API_KEYS_TABLE_NAME and the region)")
        return _fail(f"DynamoDB refused the request: {error}")
    except BotoCoreError as error:  # no credentials, no region, endpoint unreachable, ...
        return _fail(f"cannot reach DynamoDB: {error}")


# Commands


def create(args: argparse.Namespace, repository: ApiKeyRepository, out: TextIO) -> int:
    plaintext, key = new_api_key(
        _tenant_id.validate_python(args.tenant), Role.parse(args.role), args.name, args.env, utc_now()
    )
    repository.put(key)
    print(f"key id:  {key.key_id}", file=out)
    print(f"tenant:  {key.tenant_id}", file=out)
    print(f"role:    {args.role}", file=out)
    print(f"name:    {key.name}", file=out)
    print(f"api key: {plaintext}", file=out)
    print("This is the only time the key is shown: store it now. Only its SHA-256 hash is kept.", file=out)
    return 0


def list_keys(args: argparse.Namespace, repository: ApiKeyRepository, out: TextIO) -> int:
    tenant = _tenant_id.validate_python(args.tenant)
    keys = repository.list_for_tenant(tenant)
    if not keys:
        print(f"No API keys for tenant {tenant}.", file=out)
        return 0
    print(_table_text(keys), file=out)
    return 0


def revoke(args: argparse.Namespace, repository: ApiKeyRepository, out: TextIO) -> int:
    tenant = _tenant_id.validate_python(args.tenant)
    now = utc_now()
    key = repository.revoke(tenant, args.key_id, now)
    if key.revoked_at == timestamp(now):
        print(f"Revoked {key.key_id} ({key.prefix}…) of tenant {tenant} at {key.revoked_at}.", file=out)
    else:
        print(f"{key.key_id} ({key.prefix}…) of tenant {tenant} was already revoked at {key.revoked_at}.", file=out)
    return 0


# Plumbing


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--tenant", required=True, help="the tenant the key belongs to")
    common.add_argument("--table", help="the API keys table (default: $API_KEYS_TABLE_NAME; one of them is required)")

    parser = argparse.ArgumentParser(prog="python -m decision_flows_admin.keys", description="Manage API keys.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{create,list,revoke}")

    create_cmd = commands.add_parser("create", parents=[common], help="create a key and print it once")
    create_cmd.add_argument("--role", required=True, choices=ROLES)
    create_cmd.add_argument("--name", required=True, help="what the key is for, e.g. 'ci'")
    create_cmd.add_argument("--env", choices=["live", "test"], default="live", help="key prefix (default: live)")
    create_cmd.set_defaults(run=create)

    list_cmd = commands.add_parser("list", parents=[common], help="list a tenant's keys (never the keys themselves)")
    list_cmd.set_defaults(run=list_keys)

    revoke_cmd = commands.add_parser("revoke", parents=[common], help="revoke a key; it stops working")
    revoke_cmd.add_argument("--key-id", required=True, help="the key's id (key_…), as list shows it")
    revoke_cmd.set_defaults(run=revoke)
    return parser


def _table(option: str | None) -> str:
    if option is not None:
        return option
    if not os.environ.get("API_KEYS_TABLE_NAME"):
        raise UsageError("no table: pass --table or set API_KEYS_TABLE_NAME")
    return _table_name.validate_python(os.environ["API_KEYS_TABLE_NAME"])


def _client() -> DynamoDBClient:
    from decision_flows.dal.client import dynamodb_client

    return dynamodb_client()


def _table_text(keys: Sequence[ApiKey]) -> str:
    header = ("KEY ID", "PREFIX", "ROLE", "NAME", "CREATED", "REVOKED")
    rows = [header] + [
        (k.key_id, k.prefix, k.role.name.lower(), k.name, k.created_at, k.revoked_at or "-") for k in keys
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
