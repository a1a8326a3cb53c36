"""Fuzzing the source-config loader: any text, any YAML document, mutations of the example
configs, deep nesting, alias bombs, non-UTF-8 files → configs or ConfigError with a location,
never another exception or a hang; every config that loads can be dumped, hashed and read back."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml
from fuzz_support import FUZZ, outcome, profile  # type: ignore[import-not-found]
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import ValidationError

from headwater.config import (
    ConfigError,
    SourceConfig,
    config_hash,
    dump_source_config,
    issues_from_validation,
    load_source_configs,
    parse_source_configs,
)

EXAMPLES = sorted((Path(__file__).parents[3] / "config" / "source-configs").glob("*.yaml"))
EXAMPLE_DATA = [yaml.safe_load(p.read_text()) for p in EXAMPLES]
OTHER_VALUES: list[Any] = [
    None,
    "",
    "x",
    "{item.id}",
    "{",
    "*",
    0,
    -1,
    10**30,
    1.5,
    float("nan"),
    True,
    [],
    {},
    [1],
    {"a": 1},
]
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
yaml_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=15,
)


POST = (
    "source_id: s\ningestion:\n  mode: scheduled_pull\n  schedule: '@hourly'\n  request:\n"
    "    base_url: https://api.example.com/\n    method: POST\n    body: BODY\n"
)


def bomb(levels: int, where: str) -> str:
    anchors = "".join(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}' if i else 'lol'] * 10)}]\n" for i in range(levels))
    return (
        f"x-anchors:\n{anchors}source_id: s\ningestion:\n  mode: scheduled_pull\n  schedule: '@hourly'\n"
        f"  request:\n    base_url: https://api.example.com/\n    method: POST\n    {where}: *l{levels - 1}\n"
    )


def loaded(text: str) -> list[SourceConfig] | Exception:
    result = outcome(lambda: parse_source_configs(text, "fuzz.yaml"), ConfigError)
    if isinstance(result, ConfigError):
        assert result.issues and all(i.file == "fuzz.yaml" and i.line >= 1 and i.column >= 1 for i in result.issues)
    else:
        for config in result:  # what the planner does with an applied config
            again = SourceConfig.model_validate(dump_source_config(config))
            assert config_hash(again) == config_hash(config)
    return result


@FUZZ
@given(st.text(max_size=300))
@example("source_id: a\x00\n")  # yaml ReaderError escaped (no mark)
@example("source_id: \ud800\n")
@example("a: " + "[" * 5000 + "]" * 5000)  # RecursionError while composing
@example("a: " + "{b: " * 5000 + "1" + "}" * 5000)
@example("x: 2001-13-45\n")  # ValueError from the timestamp constructor
@example("x: 1" + "0" * 5000 + "\n")  # ValueError: integer past 4,300 digits
@example("a: &a [*a]\n")  # a list containing itself
@example("&a {source_id: x, ingestion: *a}\n")
@example(POST.replace("BODY", "!!binary /w=="))  # loaded, then config_hash raised UnicodeDecodeError
@example(POST.replace("BODY", "!!set {a, b}"))  # loaded; its hash varied from process to process
@example(POST.replace("BODY", "{a: .nan}"))  # loaded; sent as null
def test_any_text(text: str) -> None:
    loaded(text)


@FUZZ
@given(st.lists(yaml_values, min_size=1, max_size=3))
def test_any_yaml_documents(documents: list[Any]) -> None:
    loaded(yaml.safe_dump_all(documents, allow_unicode=True))


def _mutate(data: Any, path: list[int], value: Any, drop: bool) -> Any:
    """``data`` with the node chosen by ``path`` (indices into its keys/items) replaced or dropped."""
    if not path or not isinstance(data, dict | list) or not data:
        return value
    keys = list(data) if isinstance(data, dict) else list(range(len(data)))
    key = keys[path[0] % len(keys)]
    copy = dict(data) if isinstance(data, dict) else list(data)
    if drop and len(path) == 1:
        del copy[key]
    else:
        copy[key] = _mutate(data[key], path[1:], value, drop)
    return copy


@profile(max_examples=120)
@given(
    st.sampled_from(range(len(EXAMPLE_DATA))),
    st.lists(st.integers(0, 50), min_size=1, max_size=5),
    st.sampled_from(OTHER_VALUES) | yaml_values,
    st.booleans(),
)
def test_mutated_example_configs(index: int, path: list[int], value: Any, drop: bool) -> None:
    mutated = _mutate(EXAMPLE_DATA[index], path, value, drop)
    loaded(yaml.safe_dump(mutated, allow_unicode=True))
    result = outcome(lambda: SourceConfig.model_validate(mutated), ValidationError)  # the planner's JSON path
    if isinstance(result, ValidationError):
        assert all(message for _, message in issues_from_validation(result))


@profile(max_examples=20)
@given(st.integers(6, 12), st.sampled_from(["body", "parameters", "headers", "allow_private_hosts"]))
@example(9, "body")  # 10^9 values: validating the body never finished
def test_alias_bombs_are_refused_quickly(levels: int, where: str) -> None:
    result = loaded(bomb(levels, where))
    assert isinstance(result, ConfigError)


@profile(max_examples=30)
@given(st.binary(max_size=200))
@example(b"source_id: caf\xe9\n")
def test_any_file_bytes_give_configs_or_errors_naming_the_file(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "source.yaml"
        path.write_bytes(content)
        result = outcome(lambda: load_source_configs([path]), ConfigError)
    if isinstance(result, ConfigError):
        assert all(i.file == str(path) for i in result.issues)
