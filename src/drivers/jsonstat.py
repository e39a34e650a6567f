"""JSON-stat parsing: SSB responses (2.0 from PxWebApi v2, 1.x `{"dataset": ...}` from v0) to long frames.

`parse(doc)` returns a ParsedTable: the table's metadata, a `categories` frame (every dimension's codes with
labels, units, decimals and position) and an `observations` frame in the store's long shape:

    region         the geo-role dimension's code (else a dimension named like 'Region' / '...region...'; else '')
    year           the time dimension's year. A plain year code ('2024') gives that year. A code that is not a
                   plain year ('2024M01', '2016K1') gives its leading 4-digit year AND the full code is kept in
                   `dims` under the time dimension's id, so monthly/quarterly cells stay distinct. When no time
                   dimension (or no year in a code) exists the year is missing (<NA>).
    contents_code  the metric-role dimension's code (else a dimension named 'ContentsCode'; else '')
    dims           every other dimension as 'DIM=code;DIM=code' sorted by DIM ('' if none)
    value          float; NaN where SSB gives null
    status         SSB's status symbol for the cell ('.', '..', ':', '-', ...) or None

A null with a status is missing, never 0. A cell given as a string that is not a number (some v1 producers put
the symbol in `value`) becomes NaN with that string as its status, unless a status was given.

The decoder is vectorised: JSON-stat is row-major (the last dimension varies fastest), so each dimension's
category index per cell is a repeat/tile of a range, and the string columns are pandas Categoricals built from
those integer codes. pyjstat is the reference implementation in tests and the baseline in bench/ingest.py.

Long on purpose: JSON-stat 1.x and 2.0, their status symbols and time codes go through one vectorised decoder,
so both versions are parsed (and tested) by the same code.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from drivers.errors import UserError

OBS_COLUMNS = ["region", "year", "contents_code", "dims", "value", "status"]
CAT_COLUMNS = ["dimension", "code", "label", "unit", "decimals", "position"]
_PLAIN_YEAR = re.compile(r"^\d{4}$")
_LEADING_YEAR = re.compile(r"^(\d{4})")
_TABLE_IN_LABEL = re.compile(r"^\s*(\d{5})\s*:")


@dataclass
class ParsedTable:
    """One JSON-stat dataset: metadata, categories and long observations (see the module docstring)."""

    table_id: str | None
    title: str | None
    updated: datetime | None
    notes: list[str]
    source: str | None
    dimension_ids: list[str]
    role: dict[str, list[str]]
    categories: pd.DataFrame
    observations: pd.DataFrame
    version: str = "2.0"
    extension: dict = field(default_factory=dict)

    @property
    def label(self) -> str | None:
        return self.title

    @property
    def cells(self) -> int:
        return len(self.observations)

    def table_meta(self, **extra: Any) -> dict:
        """The `ssb_tables` row for store.write_table; `extra` adds or overrides fields (source_url, origin...)."""
        meta = {
            "table_id": self.table_id,
            "title": self.title,
            "updated": self.updated,
            "notes_json": json.dumps(self.notes, ensure_ascii=False),
        }
        meta.update(extra)
        return meta


def parse(doc: str | bytes | dict) -> ParsedTable:
    """Parse a JSON-stat 2.0 dataset or a JSON-stat 1.x response (`{"dataset": {...}}`)."""
    if isinstance(doc, (str, bytes, bytearray)):
        text = doc
        doc = _loads_fast(text)
        if doc is None:
            try:
                doc = json.loads(text)
            except (ValueError, UnicodeDecodeError) as exc:
                raise UserError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise UserError("not JSON-stat: the document is not a JSON object")
    ds, version = _locate_dataset(doc)
    try:
        return _parse_dataset(ds, version)
    except UserError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise UserError(f"not valid JSON-stat: {type(exc).__name__}: {exc}") from None


def problem(doc: Any, values: bool = True) -> str | None:
    """Why `doc` (parsed JSON) is not a JSON-stat dataset `parse` accepts, or None if it is one.

    A cheap structural check (no decoding): a 2.0 dataset or a 1.x `{"dataset": ...}`, 'id' and 'size' of the
    same length, every dimension with as many categories as its size, and (when `values`) a 'value' list with
    one entry per cell or a 'value' object. `values=False` checks metadata (a dataset without values).
    """
    if not isinstance(doc, dict):
        return "not a JSON object"
    try:
        ds, version = _locate_dataset(doc)
    except UserError:
        return "no JSON-stat dataset (keys: " + ", ".join(sorted(map(str, doc))[:5]) + ")"
    try:
        dims = ds["dimension"]
        ids, sizes = (dims["id"], dims["size"]) if version == "1.x" else (ds["id"], ds["size"])
        if not isinstance(ids, list) or not isinstance(sizes, list) or not ids or len(ids) != len(sizes):
            return "'id' and 'size' differ in length or are empty"
        for d, size in zip(ids, sizes, strict=True):
            cat = dims[d]["category"]
            count = len(cat["index"]) if cat.get("index") is not None else len(cat.get("label") or {})
            if count != int(size):
                return f"dimension {d} has {count} categories but size {size}"
        if values:
            value = ds.get("value")
            if isinstance(value, list):
                n = int(np.prod([int(s) for s in sizes], dtype=np.int64))
                if len(value) != n:
                    return f"{len(value)} values for {n} cells"
            elif not isinstance(value, dict):
                return "no 'value'"
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# The dense `value` array is nearly all of a response's bytes. Parsing it with the json module makes one
# Python object per cell (about 0.08 s per 800 000 cells with the float conversion); Arrow's CSV reader
# reads the same numbers in C++ in about a third of that. Only a plain array of JSON numbers and nulls
# takes this path (one `"value": [` in the document, only the bytes below, as many numbers as commas + 1);
# anything else (strings, true/false, whitespace, '+', a second "value" array) goes through json.loads.
_VALUE_ARRAY = re.compile(rb'"value"\s*:\s*\[')
_NUMBER_BYTES = b"0123456789-.eEnul,"
_VALUE_SENTINEL = "\u0000drivers:value-array\u0000"


def _loads_fast(text: str | bytes | bytearray) -> dict | None:
    """json.loads with the dense value array decoded by Arrow (a float64 array); None if the shape is unusual."""
    raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    found = _VALUE_ARRAY.finditer(raw)
    m = next(found, None)
    if m is None or next(found, None) is not None:
        return None
    start = m.end()
    end = raw.find(b"]", start)
    if end < 0:
        return None
    segment = raw[start:end]
    if not segment or segment.translate(None, _NUMBER_BYTES):
        return None
    try:
        doc = json.loads(raw[:m.start()] + b'"value":"\\u0000drivers:value-array\\u0000"' + raw[end + 1:])
    except (ValueError, UnicodeDecodeError):
        return None
    holder = _value_holder(doc)
    if holder is None:
        return None
    values = _numbers(segment)
    if values is None:
        return None
    holder["value"] = values
    return doc


def _value_holder(doc: Any) -> dict | None:
    """The object whose 'value' is the sentinel: the dataset itself, `dataset`, or a one-dataset bundle."""
    if not isinstance(doc, dict):
        return None
    for candidate in (doc, doc.get("dataset"), *doc.values()):
        if isinstance(candidate, dict) and candidate.get("value") == _VALUE_SENTINEL:
            return candidate
    return None


def _numbers(segment: bytes) -> np.ndarray | None:
    """Comma-separated JSON numbers and nulls as float64 (NaN for null); None unless every item parses."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    count = segment.count(b",") + 1
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(segment.replace(b",", b"\n")),
            # two blocks on two cores halve the wall time at the same CPU time; a small array stays one block
            read_options=pa_csv.ReadOptions(column_names=["v"], use_threads=True,
                                            block_size=max(1 << 20, len(segment) // (os.cpu_count() or 1) + 64)),
            parse_options=pa_csv.ParseOptions(quote_char=False, escape_char=False, double_quote=False),
            convert_options=pa_csv.ConvertOptions(column_types={"v": pa.float64()}, null_values=["null"],
                                                  strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, ValueError):
        return None
    if table.num_rows != count:  # an empty item (',,' or a trailing comma) is skipped by the reader
        return None
    values = table.column("v").to_numpy()
    return values if values.flags.writeable else values.copy()  # zero-copy views of Arrow memory are read-only


def _locate_dataset(doc: dict) -> tuple[dict, str]:
    """The dataset object and the JSON-stat version ('2.0' or '1.x')."""
    if doc.get("class") == "dataset" or ("id" in doc and "size" in doc and "dimension" in doc):
        return doc, str(doc.get("version", "2.0"))
    if doc.get("class") in ("collection", "bundle"):
        raise UserError("JSON-stat collections/bundles are not supported; download one table as a dataset")
    if isinstance(doc.get("dataset"), dict) and "dimension" in doc["dataset"]:
        return doc["dataset"], "1.x"
    # JSON-stat 1.x bundle: {"name": {dataset}}; accept when exactly one dataset is inside
    bundle = [v for v in doc.values() if isinstance(v, dict) and "dimension" in v and "value" in v]
    if len(bundle) == 1 and len(doc) == 1:
        return bundle[0], "1.x"
    raise UserError(
        "not JSON-stat: expected a dataset with 'dimension', 'id', 'size' and 'value' "
        "(JSON-stat 2.0) or {'dataset': {...}} (JSON-stat 1.x)"
    )


def _parse_updated(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        stamp = pd.Timestamp(str(text))
    except (ValueError, TypeError):
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.to_pydatetime()


def _category_codes(dim: dict) -> list[str]:
    """The dimension's codes in index order (index as list or dict; a lone label without index is allowed)."""
    cat = dim["category"]
    index = cat.get("index")
    if index is None:
        labels = cat.get("label") or {}
        if len(labels) != 1:
            raise UserError("not valid JSON-stat: a dimension without category.index has more than one label")
        return [str(k) for k in labels]
    if isinstance(index, list):
        return [str(c) for c in index]
    ordered = sorted(index.items(), key=lambda kv: kv[1])
    return [str(k) for k, _ in ordered]


def _normalise_role(role: Any) -> dict[str, list[str]]:
    if not isinstance(role, dict):
        return {}
    return {k: [v] if isinstance(v, str) else list(v) for k, v in role.items()}


def _pick(ids: list[str], role: dict[str, list[str]], role_name: str, fallback) -> str | None:
    for d in role.get(role_name, []):
        if d in ids:
            return d
    for d in ids:
        if fallback(d):
            return d
    return None


def _parse_dataset(ds: dict, version: str) -> ParsedTable:
    dims_obj = ds["dimension"]
    if version == "1.x":
        ids = [str(i) for i in dims_obj["id"]]
        sizes = [int(s) for s in dims_obj["size"]]
        role = _normalise_role(dims_obj.get("role"))
    else:
        ids = [str(i) for i in ds["id"]]
        sizes = [int(s) for s in ds["size"]]
        role = _normalise_role(ds.get("role"))
    if len(ids) != len(sizes) or not ids:
        raise UserError("not valid JSON-stat: 'id' and 'size' differ in length or are empty")
    if "value" not in ds:
        raise UserError("not valid JSON-stat: no 'value'")

    # categories
    codes_by_dim: dict[str, list[str]] = {}
    cat_rows: list[tuple] = []
    for d, size in zip(ids, sizes, strict=True):
        dim = dims_obj[d]
        codes = _category_codes(dim)
        if len(codes) != size:
            raise UserError(f"not valid JSON-stat: dimension {d} has {len(codes)} categories but size {size}")
        codes_by_dim[d] = codes
        cat = dim["category"]
        labels = cat.get("label") or {}
        units = cat.get("unit") or {}
        for pos, code in enumerate(codes):
            unit = units.get(code) or {}
            unit_text = unit.get("base") or unit.get("label") or unit.get("symbol")
            decimals = unit.get("decimals")
            cat_rows.append((d, code, labels.get(code, code), unit_text,
                             int(decimals) if decimals is not None else None, pos))
    categories = pd.DataFrame(cat_rows, columns=CAT_COLUMNS)
    categories["decimals"] = categories["decimals"].astype("Int64")
    categories["position"] = categories["position"].astype("int64")

    region_dim = _pick(ids, role, "geo", lambda d: "region" in d.lower())
    time_dim = _pick(ids, role, "time", lambda d: d.lower() in ("tid", "time", "år", "aar", "year"))
    metric_dim = _pick(ids, role, "metric", lambda d: d == "ContentsCode")
    if region_dim is not None and region_dim in (time_dim, metric_dim):
        region_dim = None

    n = int(np.prod(sizes, dtype=np.int64))
    values, status = _values_and_status(ds, n)

    # Per cell, a dimension's category index is its arange broadcast along that dimension's axis of the cube
    # (JSON-stat is row-major: the last dimension varies fastest); one contiguous copy per column, in the
    # integer width pandas keeps for that many categories.
    pos = {d: k for k, d in enumerate(ids)}

    def categorical(dims: list[str], labels: list[str]) -> pd.Categorical:
        dtype = _indexer_dtype(len(labels))
        acc = np.zeros([1] * len(sizes), dtype=dtype)
        stride = 1
        for d in reversed(dims):  # mixed radix: the first dimension in `dims` is the most significant
            acc = acc + _along(np.arange(sizes[pos[d]], dtype=dtype) * dtype.type(stride), pos[d], len(sizes))
            stride *= sizes[pos[d]]
        return pd.Categorical.from_codes(_cells(acc, sizes), categories=labels, validate=False)

    obs: dict[str, Any] = {}
    empty = categorical([], [""])
    obs["region"] = categorical([region_dim], codes_by_dim[region_dim]) if region_dim else empty

    time_in_dims = False
    if time_dim:
        tcodes = codes_by_dim[time_dim]
        time_in_dims = not all(_PLAIN_YEAR.match(c) for c in tcodes)
        years_per_code = np.array(
            [int(m.group(1)) if (m := _LEADING_YEAR.match(c)) else -1 for c in tcodes], dtype=np.int64
        )
        yr = _cells(_along(years_per_code, pos[time_dim], len(sizes)), sizes)
        obs["year"] = pd.arrays.IntegerArray(yr, yr < 0, copy=False)
    else:
        obs["year"] = pd.array(np.full(n, pd.NA), dtype="Int64")

    obs["contents_code"] = categorical([metric_dim], codes_by_dim[metric_dim]) if metric_dim else empty

    rest = sorted(d for d in ids if d not in (region_dim, metric_dim) and (d != time_dim or time_in_dims))
    if rest:
        # one string per combination of the remaining dimensions; itertools.product enumerates the same
        # mixed radix as `categorical` (first sorted dimension most significant)
        labels = [";".join(parts) for parts in itertools.product(
            *[[f"{d}={c}" for c in codes_by_dim[d]] for d in rest])]
        obs["dims"] = categorical(rest, labels)
    else:
        obs["dims"] = empty
    obs["value"] = values
    obs["status"] = status
    observations = pd.DataFrame(obs, columns=OBS_COLUMNS, copy=False)  # the arrays are ours alone

    ext = ds.get("extension") or {}
    px = ext.get("px") or {} if isinstance(ext, dict) else {}
    title = ds.get("label")
    table_id = px.get("tableid") if isinstance(px, dict) else None
    if not table_id and title:
        m = _TABLE_IN_LABEL.match(str(title))
        table_id = m.group(1) if m else None
    notes = ds.get("note") or []
    if isinstance(notes, str):
        notes = [notes]
    elif isinstance(notes, dict):
        notes = [str(v) for v in notes.values()]
    return ParsedTable(
        table_id=str(table_id) if table_id else None,
        title=str(title) if title is not None else None,
        updated=_parse_updated(ds.get("updated")),
        notes=[str(x) for x in notes],
        source=ds.get("source"),
        dimension_ids=ids,
        role=role,
        categories=categories,
        observations=observations,
        version=version,
        extension=ext if isinstance(ext, dict) else {},
    )


def _indexer_dtype(categories: int) -> np.dtype:
    """The code width pandas gives a Categorical with this many categories (so from_codes does not copy)."""
    for dtype in (np.int8, np.int16, np.int32):
        if categories < np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def _along(values: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """`values` shaped to lie along `axis` of an ndim-dimensional cube (length 1 on every other axis)."""
    shape = [1] * ndim
    shape[axis] = len(values)
    return values.reshape(shape)


def _cells(per_axis: np.ndarray, sizes: list[int]) -> np.ndarray:
    """A small array broadcast to the whole cube, as one contiguous (writable) value per cell."""
    return np.array(np.broadcast_to(per_axis, sizes)).reshape(-1)


def _values_and_status(ds: dict, n: int) -> tuple[np.ndarray, pd.Categorical]:
    """Dense float values (NaN for null) and a Categorical of status symbols (missing where absent)."""
    raw = ds["value"]
    status: np.ndarray | None = None  # per-cell symbols given in `value` itself (made only when there are any)
    if isinstance(raw, np.ndarray):  # from _loads_fast
        if len(raw) != n:
            raise UserError(f"not valid JSON-stat: {len(raw)} values for {n} cells (product of 'size')")
        values = raw
    elif isinstance(raw, list):
        if len(raw) != n:
            raise UserError(f"not valid JSON-stat: {len(raw)} values for {n} cells (product of 'size')")
        try:
            values = np.array(raw, dtype=np.float64)  # None -> NaN
        except (TypeError, ValueError):
            status = np.full(n, None, dtype=object)
            values, found = _values_slow(raw, status)
            status = status if found else None
    elif isinstance(raw, dict):
        values = np.full(n, np.nan)
        if raw:
            idx = _int_keys(raw, n, "value")
            vals = list(raw.values())
            try:
                values[idx] = np.array(vals, dtype=np.float64)
            except (TypeError, ValueError):
                sub_status = np.full(len(vals), None, dtype=object)
                sub, found = _values_slow(vals, sub_status)
                values[idx] = sub
                if found:
                    status = np.full(n, None, dtype=object)
                    status[idx] = sub_status
    else:
        raise UserError("not valid JSON-stat: 'value' is neither a list nor an object")

    st = ds.get("status")
    if status is None and (st is None or (isinstance(st, dict) and not st)):
        return values, pd.Categorical.from_codes(np.full(n, -1, dtype=np.int8), categories=[], validate=False)
    if status is None and isinstance(st, dict):
        # SSB's usual form (a few symbols at sparse cells): codes straight from the dict, no object column
        idx = _int_keys(st, n, "status")
        symbols: dict[str, int] = {}
        sub = np.fromiter((-1 if v is None else symbols.setdefault(str(v), len(symbols)) for v in st.values()),
                          dtype=np.int32, count=len(st))
        codes = np.full(n, -1, dtype=_indexer_dtype(len(symbols)))
        codes[idx] = sub
        return values, pd.Categorical.from_codes(codes, categories=list(symbols), validate=False)
    if status is None:
        status = np.full(n, None, dtype=object)
    if st is None:
        pass
    elif isinstance(st, str):
        status[:] = st
    elif isinstance(st, list):
        if len(st) == 1 and n != 1:
            status[:] = st[0]
        elif len(st) == n:
            given = np.array(st, dtype=object)
            keep = given != None  # noqa: E711 - element-wise comparison
            status[keep] = given[keep]
        else:
            raise UserError(f"not valid JSON-stat: {len(st)} status entries for {n} cells")
    elif isinstance(st, dict):
        if st:
            status[_int_keys(st, n, "status")] = np.array(list(st.values()), dtype=object)
    else:
        raise UserError("not valid JSON-stat: 'status' is neither a string, a list nor an object")
    codes, uniques = pd.factorize(status, use_na_sentinel=True)
    return values, pd.Categorical.from_codes(codes, categories=[str(u) for u in uniques])


def _int_keys(obj: dict, n: int, what: str) -> np.ndarray:
    """The cell indexes of a sparse value/status object, checked against the cube size."""
    try:
        idx = np.array(list(obj), dtype=np.str_).astype(np.int64)
    except ValueError:
        raise UserError(f"not valid JSON-stat: a {what} index is not an integer") from None
    if idx.min() < 0 or idx.max() >= n:
        raise UserError(f"not valid JSON-stat: a {what} index is outside the cube")
    return idx


def _values_slow(raw: list, status: np.ndarray) -> tuple[np.ndarray, bool]:
    """Element-wise fallback when values hold strings: numbers parse, symbols become NaN + status."""
    values = np.full(len(raw), np.nan)
    found = False
    for i, v in enumerate(raw):
        if v is None:
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            values[i] = float(v)
            continue
        try:
            values[i] = float(str(v).replace(",", "."))
        except ValueError:
            status[i] = str(v)
            found = True
    return values, found
