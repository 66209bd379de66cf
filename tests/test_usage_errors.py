# SPDX-License-Identifier: GPL-2.0-only
"""Usage errors exit 2 with one line, before any work starts; never a traceback."""

from __future__ import annotations

import io
import json
import re
import struct
import zipfile

import numpy as np
import pytest

import synnet
from synnet.cli import main as synnet_main
from synnet.scenario import MAX_MEMBER_BYTES, ScenarioFileError


@pytest.fixture(scope="module")
def scenario_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("sc") / "s.npz"
    synnet.generate("nx-XS", "udp_low", "none", steps=3, step_ms=5.0, seed=1).save(path)
    return path.read_bytes()


def _rewrite(data: bytes, member: str, new: bytes, compress: bool = False) -> bytes:
    """The archive ``data`` with ``member`` replaced by ``new`` (the other members copied)."""
    out = io.BytesIO()
    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", mode) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, new if info.filename == member else src.read(info))
    return out.getvalue()


def _npy_header(shape: tuple[int, ...], descr: str) -> bytes:
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def _bad_files(good: bytes) -> dict[str, tuple[bytes, str | None]]:
    with zipfile.ZipFile(io.BytesIO(good)) as z:
        meta = json.loads(str(np.load(io.BytesIO(z.read("meta.npy")))[()]))
    no_steps = {k: v for k, v in meta.items() if k != "steps"}
    meta_npy = io.BytesIO()
    np.save(meta_npy, np.array(json.dumps(no_steps)))
    wrong_edges = io.BytesIO()
    np.save(wrong_edges, np.array([[0, 99]], dtype=np.int32))
    huge = _npy_header((1 << 40,), "<f8")
    corrupted = bytearray(good)
    corrupted[len(good) // 2: len(good) // 2 + 64] = b"\xff" * 64
    return {
        "empty": (b"", "is not a synnet scenario file"),
        "truncated": (good[: len(good) // 2], "is not a synnet scenario file"),
        "corrupted": (bytes(corrupted), None),
        "meta key": (_rewrite(good, "meta.npy", meta_npy.getvalue()), "lacks the key(s) ['steps']"),
        "inconsistent": (_rewrite(good, "edges.npy", wrong_edges.getvalue()),
                         "inconsistent scenario"),
        "huge": (_rewrite(good, "delay_ms.npy", huge + b"\0" * 64, compress=True),
                 f"more than the {MAX_MEMBER_BYTES} bytes allowed"),
        "short member": (_rewrite(good, "delay_ms.npy", _npy_header((1000,), "<f8") + b"\0" * 8),
                         "the file is corrupted"),
    }


@pytest.mark.parametrize("case", ["empty", "truncated", "corrupted", "meta key", "inconsistent",
                                  "huge", "short member"])
def test_a_bad_scenario_file_is_one_error(tmp_path, scenario_bytes, case, capsys):
    data, message = _bad_files(scenario_bytes)[case]
    path = tmp_path / "bad.npz"
    path.write_bytes(data)
    with pytest.raises(ScenarioFileError, match=None if message is None else re.escape(message)):
        synnet.Scenario.load(path)
    with pytest.raises(SystemExit) as exit_info:
        synnet_main(["show", str(path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("synnet show: error:") and "Traceback" not in err


def test_a_good_scenario_file_still_loads(tmp_path, scenario_bytes):
    path = tmp_path / "good.npz"
    path.write_bytes(scenario_bytes)
    sc = synnet.Scenario.load(path)
    again = tmp_path / "again.npz"
    sc.save(again)
    assert again.read_bytes() == scenario_bytes
