"""Loading YAML: every problem of every file at once, located; several documents per file."""

from __future__ import annotations

from pathlib import Path

import pytest

from headwater.config import (
    ConfigError,
    ConfigIssue,
    load_source_config_file,
    load_source_configs,
    parse_source_configs,
)

BASE = """\
source_id: s1
ingestion:
  mode: scheduled_pull
  schedule: "0 6 * * *"
  request:
    base_url: https://api.example.com/v1/items
"""


def test_an_issue_reads_file_line_column_path_message() -> None:
    issue = ConfigIssue("weather.yaml", 12, 5, "ingestion.iteration.concurrency", "Input should be ≥ 1")
    assert str(issue) == "weather.yaml:12:5: ingestion.iteration.concurrency: Input should be ≥ 1"
    assert str(ConfigIssue("w.yaml", 1, 1, "", "invalid YAML")) == "w.yaml:1:1: invalid YAML"


def test_all_errors_of_a_file_are_reported_at_once_in_line_order() -> None:
    text = BASE.replace('"0 6 * * *"', '"nope"') + "    timeout_seconds: 0\ncolour: blue\n"
    with pytest.raises(ConfigError) as err:
        parse_source_configs(text, "x.yaml")
    assert [(i.path, i.line) for i in err.value.issues] == [
        ("ingestion.schedule", 4),
        ("ingestion.request.timeout_seconds", 7),
        ("colour", 8),
    ]
    assert str(err.value).splitlines()[0].startswith("x.yaml:4:3: ingestion.schedule: invalid schedule 'nope'")


def test_cross_field_problems_of_one_section_are_all_reported() -> None:
    text = BASE + "    auth_type: basic\n    path: /{item.id}/{linkage.x}/{oops}\n"
    with pytest.raises(ConfigError) as err:
        parse_source_configs(text, "x.yaml")
    assert {(i.path, i.message.split(";")[0]) for i in err.value.issues} == {
        ("ingestion.request.username_secret_key", "auth_type basic needs username_secret_key"),
        ("ingestion.request.password_secret_key", "auth_type basic needs password_secret_key"),
    }
    with pytest.raises(ConfigError) as err:
        parse_source_configs(text.replace("    auth_type: basic\n", ""), "x.yaml")
    assert [i.message.split(";")[0] for i in err.value.issues] == [
        "template variable {item.id} needs an ingestion.iteration block",
        "unknown template variable {oops}",
    ]


def test_duplicate_keys_are_reported_with_the_other_problems() -> None:
    with pytest.raises(ConfigError) as err:
        parse_source_configs(BASE + "source_id: s2\ncolour: blue\n", "x.yaml")
    assert [str(i) for i in err.value.issues] == [
        "x.yaml:7:1: source_id: duplicate key 'source_id' (first at line 1)",
        "x.yaml:8:1: colour: unknown key 'colour'",
    ]


def test_errors_of_several_files_are_collected(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("colour: 1\n")
    (tmp_path / "b.yaml").write_text(BASE + "x: 1\n")
    with pytest.raises(ConfigError) as err:
        load_source_configs([tmp_path / "a.yaml", tmp_path / "b.yaml"])
    assert {Path(i.file).name for i in err.value.issues} == {"a.yaml", "b.yaml"}


def test_several_documents_in_one_file(tmp_path: Path) -> None:
    file = tmp_path / "two.yaml"
    file.write_text(BASE + "---\n" + BASE.replace("s1", "s2") + "---\n")
    assert [c.source_id for c in load_source_configs([file])] == ["s1", "s2"]
    with pytest.raises(ConfigError, match="holds 2 source configs; load it with load_source_configs"):
        load_source_config_file(file)


def test_errors_in_a_later_document_point_at_its_own_lines() -> None:
    with pytest.raises(ConfigError) as err:
        parse_source_configs(BASE + "---\n" + BASE.replace("s1", "s2") + "colour: red\n", "x.yaml")
    assert [str(i) for i in err.value.issues] == ["x.yaml:14:1: colour: unknown key 'colour'"]


def test_a_source_id_defined_twice_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BASE)
    (tmp_path / "b.yaml").write_text("# the same source again\n" + BASE)
    with pytest.raises(ConfigError) as err:
        load_source_configs([tmp_path / "a.yaml", tmp_path / "b.yaml"])
    (issue,) = err.value.issues
    assert (Path(issue.file).name, issue.line, issue.column, issue.path) == ("b.yaml", 2, 1, "source_id")
    assert issue.message == f"duplicate source_id 's1' (first in {tmp_path / 'a.yaml'}:1)"


def test_an_unreadable_file_is_an_issue(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_source_config_file(tmp_path / "missing.yaml")
    assert err.value.issues[0].message.startswith("cannot read file:")


def test_yaml_is_loaded_safely() -> None:
    with pytest.raises(ConfigError, match="invalid YAML"):
        parse_source_configs("source_id: !!python/object/apply:os.system ['true']\n")


def test_anchors_and_merge_keys_work_and_overrides_are_no_duplicates() -> None:
    text = BASE + '    parameters: &p {a: "1", b: "2"}\n    headers:\n      <<: *p\n      a: "3"\n'
    (config,) = parse_source_configs(text)
    assert config.ingestion.request is not None
    assert config.ingestion.request.headers == {"a": "3", "b": "2"}
