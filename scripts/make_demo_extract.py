"""Derive the demo extract of the Anonymous Bank data that ``slm demo`` loads.

Keeps the header and every line whose ``date`` falls on the first DAYS days of January,
February and March 1999, byte for byte (every column unchanged, same file format), and
writes one ``.txt.gz`` per month. The gzip output is reproducible: no file name or time
stamp is stored in it, so running this again gives the same bytes.

    python scripts/make_demo_extract.py                  # from ../shared/data/anonymous_bank
    python scripts/make_demo_extract.py --source DIR --out DIR --days 14
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "anonymous_bank"
DEFAULT_OUT = REPO / "src" / "servicelevel" / "data" / "demo" / "anonymous_bank"
MONTHS = ("01_January.txt.gz", "02_February.txt.gz", "03_March.txt.gz")
DATE_COLUMN = 5  # 0-based position of ``date`` (YYMMDD) among the 17 columns


def extract(raw: bytes, days: int) -> tuple[bytes, int]:
    """The header and the lines dated on days 1..``days`` of their month; lines kept."""
    lines = raw.splitlines(keepends=True)
    kept = [lines[0]]
    for line in lines[1:]:
        # Split on any whitespace: a few copies of the data use spaces, not tabs.
        fields = line.split(b"\t") if b"\t" in line else line.split()
        date = fields[DATE_COLUMN].strip() if len(fields) > DATE_COLUMN else b""
        if len(date) == 6 and date.isdigit() and int(date[4:6]) <= days:
            kept.append(line)
    return b"".join(kept), len(kept) - 1


def gzip_reproducible(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as out:
        out.write(data)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args(argv)
    missing = [name for name in MONTHS if not (args.source / name).is_file()]
    if missing:
        print(f"{args.source}: missing {', '.join(missing)}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for name in MONTHS:
        text, rows = extract(gzip.decompress((args.source / name).read_bytes()), args.days)
        packed = gzip_reproducible(text)
        (args.out / name).write_bytes(packed)
        total += len(packed)
        print(f"{name}: {rows} calls, {len(packed):,} bytes")
    print(f"total {total:,} bytes in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
