"""Pydantic's validation errors as sentences a person understands, e.g.
``video_urls.0: must be an http:// or https:// URL``."""

from collections.abc import Mapping, Sequence
from typing import Any

from videomerge_api.models import ValidationIssue

_SOURCES = ("body", "query", "path", "header", "cookie")
_FIXED = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be an integer",
}


def _place(loc: Sequence[str | int]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _sentence(error: Mapping[str, Any]) -> str:
    kind, ctx = str(error.get("type", "")), error.get("ctx") or {}
    is_clip_list = tuple(error.get("loc", ()))[-1:] == ("video_urls",)
    if kind == "string_pattern_mismatch":
        in_clips = "video_urls" in error.get("loc", ())
        return (
            "must be an http:// or https:// URL with a host and no spaces"
            if in_clips
            else "has characters that are not allowed"
        )
    if kind in _FIXED:
        return _FIXED[kind]
    if kind == "json_invalid":
        return f"the body is not valid JSON ({ctx.get('error', 'syntax error')})"
    if kind == "enum":
        return f"must be one of {ctx.get('expected', 'the listed values')}"
    if kind == "too_short":
        if is_clip_list:
            least = ctx.get("min_length")
            return f"must list at least {least} clip URL{'' if least == 1 else 's'} (got none)"
        return "is too short"
    if kind == "too_long":
        what = "clips" if is_clip_list else "items"
        return f"must have at most {ctx.get('max_length')} {what} (got {ctx.get('actual_length')})"
    if kind == "string_too_short":
        return f"must be at least {ctx.get('min_length')} characters long"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters long"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        symbol = {"greater_than_equal": "≥", "greater_than": ">", "less_than_equal": "≤", "less_than": "<"}
        bound = next(iter(ctx.values()), "")
        return f"must be {symbol[kind]} {bound}"
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")


def describe(errors: Sequence[Mapping[str, Any]]) -> tuple[list[ValidationIssue], str]:
    """(one issue per violation, one message naming up to three of them)."""
    issues = [
        ValidationIssue(
            loc=[p if isinstance(p, int) else str(p) for p in e.get("loc", ())],
            msg=_sentence(e),
            type=str(e.get("type", "invalid")),
        )
        for e in errors
    ]
    parts = [f"{'body' if i.type == 'json_invalid' else _place(i.loc)}: {i.msg}" for i in issues[:3]]
    if len(issues) > 3:
        parts.append(f"and {len(issues) - 3} more")
    return issues, "; ".join(parts) or "the request is not valid"
