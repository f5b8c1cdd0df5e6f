"""Data the sample app serves: a small table and a generator for very large JSON bodies."""

from __future__ import annotations

from collections.abc import Iterator

_CITY_ROWS = [
    ("Amsterdam", "Netherlands", 921_402, 219.3, True),
    ("Bangalore", "India", 8_443_675, 741.0, False),
    ("Berlin", "Germany", 3_850_809, 891.1, True),
    ("Bogotá", "Colombia", 7_743_955, 1587.0, True),
    ("Cairo", "Egypt", 10_230_350, 3085.0, True),
    ("Cape Town", "South Africa", 4_772_846, 2461.0, False),
    ("Chicago", "United States", 2_665_039, 606.1, False),
    ("Jakarta", "Indonesia", 10_562_088, 661.5, True),
    ("Lagos", "Nigeria", 15_388_000, 1171.3, False),
    ("Lima", "Peru", 10_092_000, 2672.3, True),
    ("London", "United Kingdom", 8_866_180, 1572.0, True),
    ("Madrid", "Spain", 3_332_035, 604.3, True),
    ("Melbourne", "Australia", 5_207_145, 9992.5, False),
    ("Mexico City", "Mexico", 9_209_944, 1485.0, True),
    ("Mumbai", "India", 12_478_447, 603.4, False),
    ("Osaka", "Japan", 2_752_412, 225.2, False),
    ("São Paulo", "Brazil", 11_451_245, 1521.1, False),
    ("Seoul", "South Korea", 9_586_195, 605.2, True),
    ("Toronto", "Canada", 2_794_356, 630.2, False),
    ("Warsaw", "Poland", 1_861_975, 517.2, True),
]

CITIES = [
    {"id": i + 1, "city": city, "country": country, "population": pop, "area_km2": area, "capital": capital}
    for i, (city, country, pop, area, capital) in enumerate(_CITY_ROWS)
]

_CATEGORIES = ("alpha", "beta", "gamma", "delta")
_CHUNK_ROWS = 2000


def large_rows_json(rows: int) -> Iterator[bytes]:
    """A JSON array of `rows` records (~100 bytes each), produced in chunks: 500k rows ≈ 50 MB."""
    yield b"["
    for start in range(0, rows, _CHUNK_ROWS):
        end = min(start + _CHUNK_ROWS, rows)
        parts = [
            f'{{"id":{i},"name":"row-{i:07d}","value":{i * 0.5},"category":"{_CATEGORIES[i % 4]}",'
            f'"active":{"true" if i % 3 else "false"},"note":"sample row"}}'
            for i in range(start, end)
        ]
        chunk = ",".join(parts)
        yield (chunk if start == 0 else "," + chunk).encode()
    yield b"]"
