"""The example data server: price lists, a paginated API, a Sheets response, orders.

It stands in for the example sources' external APIs, offline; ``headwater demo`` points
the sources at it.
"""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Header, HTTPException, Query, Response

PRODUCTS = [
    {"sku": f"SKU-{i:03d}", "title": f"Product {i}", "pricing": {"amount": round(2.5 * i, 2), "currency": "EUR"}}
    for i in range(1, 24)
]
PRICE_ROWS = [
    ("A-100", "Hex bolt M8", "0.35", "EUR", "steel"),
    ("A-101", "Hex nut M8", "0.12", "EUR", "steel"),
    ("A-102", "Washer 8 mm", "0,05", "EUR", "zinc"),
    ("A-103", "Wood screw 4x40", "€ 0.09", "EUR", ""),
    ("A-104", "Anchor 10 mm", "n/a", "EUR", "nylon"),
    ("A-105", "Threaded rod M8", "2.10", "USD", "steel"),
]
INVENTORY = [
    ["sku", "name", "quantity", "location"],
    ["INV-1", "Pallet jack", "3", "Hall A"],
    ["INV-2", "Forklift", "1", "Hall B"],
    ["INV-3", "Shelf", "many", "Hall A"],
    ["INV-4", "Ladder", "7"],
]

router = APIRouter()


def _secret(group: str) -> str | None:
    path = os.environ.get("DEMO_SECRETS_FILE")
    if not path or not Path(path).exists():
        return None
    return json.loads(Path(path).read_text()).get(group, {}).get("api_key")


def create_app() -> FastAPI:
    app = FastAPI(title="headwater demo data")
    app.include_router(router)
    return app


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/v1/forecast")
async def forecast(latitude: float | None = None, longitude: float | None = None, hourly: str = "") -> dict[str, Any]:
    """Like Open-Meteo: ``latitude`` and ``longitude`` are required (400 otherwise), and the
    forecast is for that place (a made-up temperature that depends on it)."""
    if latitude is None or longitude is None:
        raise HTTPException(400, {"error": True, "reason": "Parameter 'latitude' and 'longitude' are required"})
    base = round(12 - (latitude - 47) * 1.5 + (longitude - 6) * 0.2, 1)
    return {
        "latitude": latitude,
        "longitude": longitude,
        "hourly_units": {"temperature_2m": "°C"},
        "hourly": {"time": ["2026-11-25T00:00", "2026-11-25T01:00"], "temperature_2m": [base, round(base - 0.3, 1)]},
        "requested": hourly.split(","),
    }


@router.get("/v1/products")
async def products(
    page: int = 1, per_page: int = 10, status: str = "active", x_api_key: str | None = Header(default=None)
) -> dict[str, Any]:
    if x_api_key is None or x_api_key != _secret("products-api"):
        raise HTTPException(401, "missing or wrong X-API-Key")
    start = (page - 1) * per_page
    return {"page": page, "items": PRODUCTS[start : start + per_page]}


@router.get("/exports/pricelist.csv")
async def pricelist_csv() -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Product Code", "Description", "Unit Price", "Currency", "Material"])
    writer.writerows(PRICE_ROWS)
    return Response(out.getvalue(), media_type="text/csv")


@router.get("/exports/pricelist.xlsx")
async def pricelist_xlsx() -> Response:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Notes"
    book.active.append(["Prices are on the sheet 'Prices'"])
    sheet = book.create_sheet("Prices")
    sheet.append(["Article No.", "Name", "Price", "Currency"])
    for sku, name, price, currency, _ in PRICE_ROWS:
        sheet.append([sku.replace("A-", "X-"), name, price, currency])
    buf = io.BytesIO()
    book.save(buf)
    return Response(buf.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@router.get("/v4/spreadsheets/{sheet_id}/values/{cell_range}")
async def sheet_values(sheet_id: str, cell_range: str, key: str = Query("")) -> dict[str, Any]:
    if key != _secret("google-sheets"):
        raise HTTPException(403, "API key not valid")
    return {"range": cell_range, "majorDimension": "ROWS", "values": INVENTORY}


@router.get("/v1/orders")
async def orders(updated_from: str, updated_to: str, cursor: str | None = None) -> dict[str, Any]:
    start = datetime.fromisoformat(updated_from.replace("Z", "+00:00"))
    minutes = 0 if cursor is None else 30
    batch = [
        {
            "order_id": f"O-{(start + timedelta(minutes=minutes + m)).strftime('%Y%m%d%H%M')}",
            "amount": 10 + m,
            "placed_at": (start + timedelta(minutes=minutes + m)).isoformat(),
        }
        for m in (0, 15)
    ]
    return {"orders": batch, "next_cursor": "second-half" if cursor is None else None}
