"""``headwater records history``: the worker's answer as table rows."""

from __future__ import annotations

from headwater_ops.cli.records_cmds import history_rows


def test_each_version_is_a_row_with_its_validity_state_and_values() -> None:
    answer = {
        "source_id": "prices",
        "key": "P-1",
        "versions": [
            {
                "version": 1,
                "valid_from": "2026-01-01T00:00:00+00:00",
                "valid_to": "2026-01-02T00:00:00.123000+00:00",
                "current": False,
                "deleted": False,
                "dataset_version": "prices:abc:1a2b3c4d.1",
                "data": {"sku": "P-1", "price": 1.5},
            },
            {
                "version": 2,
                "valid_from": "2026-01-02T00:00:00.123000+00:00",
                "valid_to": None,
                "current": False,
                "deleted": True,
                "dataset_version": "prices:def:1a2b3c4d.2",
                "data": {},
            },
        ],
    }
    assert history_rows(answer) == [
        (
            "1",
            "2026-01-01T00:00:00",
            "2026-01-02T00:00:00",
            "closed",
            '{"price": 1.5, "sku": "P-1"}',
            "prices:abc:1a2b3c4d.1",
        ),
        ("2", "2026-01-02T00:00:00", "", "deleted", "", "prices:def:1a2b3c4d.2"),
    ]
