"""The runtime read path's response bodies, built around the stored config without parsing it: a
config is canonical JSON as stored (domain.pipeline.canonical_json), so it goes into the body as it
is. The fields are those of ``web.views.live`` (the models the OpenAPI document shows), spaced as the
other routes' ``json.dumps`` bodies are."""

from __future__ import annotations

import json

from decision_flows.domain.runtime_reads import LivePointer, PublishedRef, Served


def _text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def live_body(pointer: LivePointer, served: Served, config: str) -> str:
    """/live: ``{flowId, key, version, publishedAt, config, role}``."""
    return (
        f'{{"flowId": {_text(pointer.flow_id)}, "key": {_text(pointer.key)}, "version": {served.ref.version}, '
        f'"publishedAt": {_text(served.ref.published_at)}, "config": {config}, "role": {_text(served.role)}}}'
    )


def _version(ref: PublishedRef, config: str) -> str:
    return f'"version": {ref.version}, "publishedAt": {_text(ref.published_at)}, "config": {config}'


def state_body(pointer: LivePointer, champion_config: str, challenger_config: str | None) -> str:
    """/live/state: ``{flowId, key, champion: {version, publishedAt, config}, challenger: null |
    {version, publishedAt, config, percent, include, exclude}}``."""
    if pointer.champion is None:
        raise ValueError("only a served pointer has a state")
    challenger = "null"
    if pointer.challenger is not None and challenger_config is not None:
        overrides = json.dumps(
            {"percent": pointer.basis_points / 100, "include": pointer.include, "exclude": pointer.exclude},
            ensure_ascii=False,
        )
        challenger = f"{{{_version(pointer.challenger, challenger_config)}, {overrides[1:-1]}}}"
    return (
        f'{{"flowId": {_text(pointer.flow_id)}, "key": {_text(pointer.key)}, '
        f'"champion": {{{_version(pointer.champion, champion_config)}}}, "challenger": {challenger}}}'
    )
