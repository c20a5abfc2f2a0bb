"""The Python package over the installed libnst.so (tests/python.sh sets up
the environment: NST_INCLUDE, NST_SHARED, NST_BINARY, NST_MODELS)."""
import ctypes as C
import os
import subprocess
import threading

import numpy as np
import pytest

import nst

SHARED = os.environ["NST_SHARED"]
PHOTO = os.path.join(SHARED, "images/content/tubingen.jpg")
PAINTING = os.path.join(SHARED, "images/style/starry_night.jpg")


def test_structs_match_the_header(tmp_path):
    """Every mirrored struct has the size and field offsets the C compiler gives it."""
    structs = {"nst_error": nst._Error, "nst_image": nst._Image, "nst_progress": nst._Progress,
               "nst_stylize_params": nst._StylizeParams, "nst_apply_params": nst._ApplyParams,
               "nst_regions": nst._Regions}
    lines = ['#include <stddef.h>', '#include <stdio.h>', '#include <nst.h>', 'int main(void) {']
    for cname, py in structs.items():
        lines.append(f'printf("{cname} %zu\\n", sizeof({cname}));')
        for field, _ in py._fields_:
            lines.append(f'printf("{cname}.{field} %zu\\n", offsetof({cname}, {field}));')
    lines.append("return 0; }")
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    subprocess.run(["cc", "-std=c11", "-I", os.environ["NST_INCLUDE"], str(src), "-o", str(exe)], check=True)
    want = dict(l.split() for l in subprocess.run([str(exe)], capture_output=True, text=True,
                                                   check=True).stdout.splitlines())
    for cname, py in structs.items():
        assert int(want[cname]) == C.sizeof(py), cname
        for field, _ in py._fields_:
            assert int(want[f"{cname}.{field}"]) == getattr(py, field).offset, f"{cname}.{field}"


def test_version():
    assert nst.version() == nst.__version__


def test_load_image():
    a = nst.load_image(PHOTO)
    assert a.dtype == np.uint8 and a.ndim == 3 and a.shape[2] == 3 and a.shape[1] > a.shape[0]


def test_apply_is_the_command_lines(tmp_path):
    photo = nst.load_image(PHOTO)
    out = nst.apply(photo, "wave", size=128)
    assert out.shape == (96, 128, 3) and out.dtype == np.uint8
    png = tmp_path / "cli.png"
    subprocess.run([os.environ["NST_BINARY"], "apply", "-q", "--net", "wave", "--size", "128", PHOTO,
                    "-o", str(png)], check=True)
    cli = nst.load_image(png).astype(int)
    # the same pass; only the rounding of exact halves may differ
    assert np.abs(cli - out).max() <= 1 and np.abs(cli - out).mean() < 0.01
    assert np.abs(out.astype(int) - nst.apply(photo, "wave", size=128, strength=0).astype(int)).mean() > 10
    matched = nst.apply(photo, "wave", size=128, color_transfer="histogram").reshape(-1, 3).mean(0)
    small = nst.load_image(png).reshape(-1, 3).mean(0)  # the result's own colours, for contrast
    photo_mean = nst.apply(photo, "wave", size=128, strength=0).reshape(-1, 3).mean(0)
    assert np.abs(matched - photo_mean).max() < 1.0 < np.abs(small - photo_mean).max()


def test_stylize_with_progress():
    seen = []
    out = nst.stylize(nst.load_image(PHOTO), nst.load_image(PAINTING), size=64, iterations=6,
                      progress=seen.append, report_every=2)
    assert out.shape == (48, 64, 3) and out.dtype == np.uint8
    assert [p["iteration"] for p in seen] == [2, 4, 6] and all(p["total"] == 6 for p in seen)
    assert seen[-1]["loss"] < seen[0]["loss"]


def test_regions_are_the_command_lines(tmp_path):
    """mask + regions: the left half painted, the right kept, as nst stylize --mask paints them."""
    photo = nst.load_image(PHOTO)
    h, w = photo.shape[:2]
    mask = np.zeros((h, w, 3), np.uint8)
    mask[:, : w // 2] = (255, 0, 0)
    mask[:, w // 2:] = (0, 0, 255)
    out = nst.stylize(photo, mask=mask, regions={"red": nst.load_image(PAINTING), "#00f": None}, size=64,
                      iterations=8)
    assert out.shape == (48, 64, 3)
    from PIL import Image
    Image.fromarray(mask).save(tmp_path / "mask.png")
    png = tmp_path / "cli.png"
    subprocess.run([os.environ["NST_BINARY"], "stylize", "-q", "-c", PHOTO, "--mask", str(tmp_path / "mask.png"),
                    "--region-style", "red=" + PAINTING, "--region-style", "#00f=none", "--size", "64",
                    "--iterations", "8", "-o", str(png)], check=True)
    cli = nst.load_image(png).astype(int)
    assert np.abs(cli - out).max() <= 1
    with pytest.raises(nst.Error, match="no pixel of the mask has the label colour #00ff00"):
        nst.stylize(photo, mask=mask, regions={"red": None, "green": nst.load_image(PAINTING)}, size=64)


def test_cancel_from_another_thread():
    cancel, seen = nst.Cancel(), []

    def progress(p):
        seen.append(p["iteration"])
        if p["iteration"] == 3:
            threading.Thread(target=cancel.set).start()

    with pytest.raises(nst.Cancelled) as e:
        nst.stylize(nst.load_image(PHOTO), nst.load_image(PAINTING), size=64, iterations=200,
                    progress=progress, report_every=1, cancel=cancel)
    assert e.value.code == nst.ERR_CANCELLED and "cancelled" in str(e.value)
    assert len(seen) < 20


def test_an_exception_in_progress_stops_the_run():
    def progress(p):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        nst.stylize(nst.load_image(PHOTO), nst.load_image(PAINTING), size=64, iterations=50,
                    progress=progress, report_every=1)


def test_errors(tmp_path):
    missing = str(tmp_path / "missing.jpg")
    with pytest.raises(nst.Error) as e:
        nst.load_image(missing)
    assert e.value.code == nst.ERR_IO and missing in str(e.value) and e.value.name == "I/O error"
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(nst.Error) as e:
        nst.load_image(bad)
    assert e.value.code == nst.ERR_FORMAT and str(bad) in str(e.value)
    with pytest.raises(nst.Error) as e:
        nst.apply(np.zeros((8, 8, 3), np.uint8), "no-such-network")
    assert e.value.code == nst.ERR_ARG and "no-such-network" in str(e.value)
    with pytest.raises(nst.Error) as e:
        nst.apply(np.zeros((8, 8, 5), np.uint8), "wave")
    assert e.value.code == nst.ERR_ARG and "(8, 8, 5)" in str(e.value)
    with pytest.raises(TypeError):
        nst.stylize(np.zeros((8, 8, 3)), np.zeros((8, 8, 3)), colour="blue")
