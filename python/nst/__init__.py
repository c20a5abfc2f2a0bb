"""nst: neural style transfer, Python bindings of libnst (ctypes).

Images are numpy arrays of shape (height, width, 3), uint8 (0..255) or
float (0..255); results are uint8.

    import nst
    out = nst.stylize(photo, painting, size=512, progress=print)
    out = nst.apply(photo, "wave")

Errors raise nst.Error (its .code is one of the NST_ERR_* values below, its
message names the file and the problem); a cancelled run raises
nst.Cancelled. The library is libnst.so.0.3: $NST_LIBRARY (a path), else
the dynamic linker's search (LD_LIBRARY_PATH, the system's directories)."""
import ctypes as C
import os
import threading

import numpy as np

__version__ = "0.3.0"
_SONAME = "libnst.so.0.3"

(ERR_RUNTIME, ERR_ARG, ERR_IO, ERR_FORMAT, ERR_NOMEM, ERR_CPU, ERR_CANCELLED,
 ERR_INTERNAL) = range(1, 9)
_MAX_LAYERS, _MAX_STYLES, _MAX_REGIONS, _NAME = 16, 16, 16, 64
_FEATHER = 4  # the CLI's --mask-feather default, in pixels of the result


class Error(Exception):
    """A libnst failure: .code (NST_ERR_*), .name ("bad argument", ...)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.name = _lib.nst_error_name(code).decode()


class Cancelled(Error):
    """The run stopped because its Cancel token was set."""


class Cancel:
    """A token that stops a running stylize() from any thread: cancel.set()."""

    def __init__(self):
        self._flag = C.c_int(0)

    def set(self):
        self._flag.value = 1

    def is_set(self):
        return bool(self._flag.value)


# ---- the C structs (tests/test_nst.py checks them against the header) ----

class _Error(C.Structure):
    _fields_ = [("code", C.c_int), ("msg", C.c_char * 1024)]


class _Image(C.Structure):
    _fields_ = [("w", C.c_int), ("h", C.c_int), ("data", C.POINTER(C.c_float)), ("flattened", C.c_int)]


class _Progress(C.Structure):
    _fields_ = [("iteration", C.c_int), ("total", C.c_int), ("scale", C.c_int), ("scales", C.c_int),
                ("loss", C.c_double), ("content", C.c_double), ("style", C.c_double), ("tv", C.c_double),
                ("elapsed", C.c_double), ("remaining", C.c_double), ("image", C.POINTER(_Image))]


_ProgressFn = C.CFUNCTYPE(None, C.POINTER(_Progress), C.c_void_p)


class _Regions(C.Structure):
    _fields_ = [("n", C.c_int), ("w", C.c_int), ("h", C.c_int), ("weight", C.POINTER(C.c_float))]


class _StylizeParams(C.Structure):
    _fields_ = [("n_content_layers", C.c_int), ("content_layers", (C.c_char * _NAME) * _MAX_LAYERS),
                ("n_style_layers", C.c_int), ("style_layers", (C.c_char * _NAME) * _MAX_LAYERS),
                ("style_layer_weights", C.c_float * _MAX_LAYERS), ("style_blend", C.c_float * _MAX_STYLES),
                ("content_weight", C.c_float), ("style_weight", C.c_float), ("tv_weight", C.c_float),
                ("iterations", C.c_int), ("optimizer", C.c_int), ("learning_rate", C.c_float),
                ("lbfgs_history", C.c_int), ("init", C.c_int), ("init_image", C.POINTER(_Image)),
                ("seed", C.c_uint64), ("pooling", C.c_int), ("padding", C.c_int), ("precision", C.c_int),
                ("scales", C.c_int), ("size", C.c_int), ("style_scale", C.c_float),
                ("color_transfer", C.c_int), ("report_every", C.c_int), ("progress", _ProgressFn),
                ("progress_user", C.c_void_p), ("checkpoint", C.c_char_p), ("checkpoint_every", C.c_int),
                ("resume", C.c_int), ("cancel", C.POINTER(C.c_int)),
                ("temporal_target", C.POINTER(_Image)), ("temporal_mask", C.POINTER(_Image)),
                ("temporal_weight", C.c_float), ("regions", C.POINTER(_Regions)),
                ("region_style", C.c_int * _MAX_REGIONS)]


class _ApplyParams(C.Structure):
    _fields_ = [("size", C.c_int), ("strength", C.c_float), ("color_transfer", C.c_int), ("tile", C.c_int)]


def _load():
    path = os.environ.get("NST_LIBRARY") or _SONAME
    try:
        lib = C.CDLL(path)
    except OSError as e:
        raise ImportError(f"nst: cannot load {path} ({e}); install libnst (cmake --install) or set "
                          "NST_LIBRARY to the path of libnst.so") from None
    P, I, E = C.POINTER, C.POINTER(_Image), C.POINTER(_Error)
    sigs = {
        "nst_version": (C.c_char_p, []),
        "nst_error_name": (C.c_char_p, [C.c_int]),
        "nst_set_threads": (None, [C.c_int]),
        "nst_image_load": (C.c_int, [C.c_char_p, I, E]),
        "nst_image_free": (None, [I]),
        "nst_models_resolve": (C.c_int, [C.c_char_p, C.c_char_p, C.c_size_t, E]),
        "nst_net_load": (C.c_int, [C.c_char_p, P(C.c_void_p), E]),
        "nst_net_free": (None, [C.c_void_p]),
        "nst_stylize_params_init": (None, [P(_StylizeParams)]),
        "nst_stylize_default_layers": (None, [P(_StylizeParams), C.c_void_p]),
        "nst_stylize": (C.c_int, [C.c_void_p, I, I, C.c_int, P(_StylizeParams), I, E]),
        "nst_generator_load": (C.c_int, [C.c_char_p, P(C.c_void_p), E]),
        "nst_generator_free": (None, [C.c_void_p]),
        "nst_apply_params_init": (None, [P(_ApplyParams)]),
        "nst_apply": (C.c_int, [C.c_void_p, I, P(_ApplyParams), I, E]),
        "nst_mask_label": (C.c_int, [C.c_char_p, P(C.c_float), E]),
        "nst_regions_from_mask": (C.c_int, [I, P(C.c_float), C.c_int, C.c_int, P(_Regions), E]),
        "nst_regions_free": (None, [P(_Regions)]),
    }
    for name, (res, args) in sigs.items():
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    return lib


_lib = _load()


def version():
    """The version of the loaded libnst."""
    return _lib.nst_version().decode()


def set_threads(n):
    """Threads for oneDNN, OpenBLAS and nst's loops (0: all cores). Global."""
    _lib.nst_set_threads(int(n))


def _check(rc, err):
    if rc:
        cls = Cancelled if rc == ERR_CANCELLED else Error
        raise cls(rc, err.msg.decode(errors="replace"))


class _Planar:
    """An array as an nst_image (planar float32), kept alive with it."""

    def __init__(self, a, what):
        a = np.asarray(a)
        if a.ndim == 2:
            a = np.repeat(a[:, :, None], 3, axis=2)
        if a.ndim != 3 or a.shape[2] not in (3, 4):
            raise Error(ERR_ARG, f"{what}: an image of shape (height, width, 3) is needed, not {a.shape}")
        self.buf = np.ascontiguousarray(a[:, :, :3].transpose(2, 0, 1), dtype=np.float32)
        self.image = _Image(a.shape[1], a.shape[0], self.buf.ctypes.data_as(C.POINTER(C.c_float)), 0)


def _result(img):
    """An nst_image the library allocated -> (h, w, 3) uint8; frees it."""
    try:
        planes = np.ctypeslib.as_array(img.data, shape=(3, img.h, img.w))
        return np.clip(np.rint(planes), 0, 255).astype(np.uint8).transpose(1, 2, 0).copy()
    finally:
        _lib.nst_image_free(C.byref(img))


def _resolve(name):
    err, path = _Error(), C.create_string_buffer(4096)
    _check(_lib.nst_models_resolve(os.fsencode(name), path, len(path), C.byref(err)), err)
    return path.value


def load_image(path):
    """Decode an image file (PNG, JPEG, WebP, HEIC, ...) to (h, w, 3) uint8."""
    img, err = _Image(), _Error()
    _check(_lib.nst_image_load(os.fsencode(path), C.byref(img), C.byref(err)), err)
    return _result(img)


class _Handle:
    """A network the library loaded, freed with it."""

    _load = _free = None

    def __init__(self, name):
        self._p, err = C.c_void_p(), _Error()
        _check(getattr(_lib, self._load)(_resolve(name), C.byref(self._p), C.byref(err)), err)

    def __del__(self):
        if getattr(self, "_p", None):
            getattr(_lib, self._free)(self._p)
            self._p = None


class Net(_Handle):
    """A loss network (a name such as "darknet-tiny" or "vgg19", or a path)."""

    _load, _free = "nst_net_load", "nst_net_free"

    def __init__(self, name="darknet-tiny"):
        super().__init__(name)


class Generator(_Handle):
    """A feed-forward style network (a pretrained name such as "wave", or a path)."""

    _load, _free = "nst_generator_load", "nst_generator_free"


_OPTIMIZERS = {"lbfgs": 0, "adam": 1}
_INITS = {"content": 0, "noise": 1}
_PRECISIONS = {"fp32": 0, "bf16": 1}
_COLORS = {"none": 0, "luminance": 1, "histogram": 2}
_default_net = None
_default_lock = threading.Lock()


def _regions(mask, regions, size, feather):
    """A mask image and {label: painting or None} -> (nst_regions, the
    paintings in order, region_style indices)."""
    if not regions or len(regions) > _MAX_REGIONS:
        raise Error(ERR_ARG, f"regions: give 1 to {_MAX_REGIONS} labels, each a painting or None")
    labels, paintings, index = (C.c_float * (3 * len(regions)))(), [], []
    err = _Error()
    for r, (label, painting) in enumerate(regions.items()):
        rgb = (C.c_float * 3)()
        _check(_lib.nst_mask_label(str(label).encode(), rgb, C.byref(err)), err)
        labels[3 * r: 3 * r + 3] = list(rgb)
        if painting is None:
            index.append(-1)
        else:
            paintings.append(painting)
            index.append(len(paintings) - 1)
    m = _Planar(mask, "mask")
    px = int(round(feather * max(m.image.w, m.image.h) / size))
    out = _Regions()
    _check(_lib.nst_regions_from_mask(C.byref(m.image), labels, len(regions), px, C.byref(out), C.byref(err)), err)
    return out, paintings, index


def stylize(content, style=None, net=None, progress=None, report_every=10, cancel=None, mask=None, regions=None,
            mask_feather=_FEATHER, **options):
    """Paint `content` in the style of `style` (an image, or a list of images
    to blend) by optimisation (Gatys et al.). Options are nst_stylize_params'
    fields: size, iterations, content_weight, style_weight, tv_weight,
    style_scale, scales, seed, learning_rate, lbfgs_history,
    color_transfer ("none"/"luminance"/"histogram"), optimizer
    ("lbfgs"/"adam"), init ("content"/"noise"),
    precision ("fp32"/"bf16"), style_blend (a list of weights).
    Regions instead of style: mask (an image of the content's shape) and
    regions, {label: painting or None (keep the photo)} with labels as
    nst stylize's --region-style ("#ff0000", "white", "128"...); edges
    feathered over mask_feather px of the result.
    progress(info) gets a dict every report_every iterations; cancel is a
    Cancel token. Returns (h, w, 3) uint8."""
    global _default_net
    if net is None:
        with _default_lock:
            if _default_net is None:
                _default_net = Net()
        net = _default_net
    elif isinstance(net, str):
        net = Net(net)
    if (mask is None) != (regions is None) or (mask is not None and style is not None):
        raise Error(ERR_ARG, "give either style, or mask and regions")
    region_set = None
    if mask is not None:
        region_set, style, index = _regions(mask, regions, options.get("size", 512), mask_feather)
    styles = style if isinstance(style, (list, tuple)) else [style]
    if not 1 <= len(styles) <= _MAX_STYLES:
        raise Error(ERR_ARG, f"style: give 1 to {_MAX_STYLES} images, not {len(styles)}")
    c = _Planar(content, "content")
    s = [_Planar(x, f"style {i + 1}") for i, x in enumerate(styles)]
    s_arr = (_Image * len(s))(*[x.image for x in s])
    p = _StylizeParams()
    _lib.nst_stylize_params_init(C.byref(p))
    _lib.nst_stylize_default_layers(C.byref(p), net._p)
    if region_set is not None:
        p.regions = C.pointer(region_set)
        for r, k in enumerate(index):
            p.region_style[r] = k
    for k, v in options.items():
        if k == "optimizer":
            v = _OPTIMIZERS[v]
        elif k == "init":
            v = _INITS[v]
        elif k == "precision":
            v = _PRECISIONS[v]
        elif k == "color_transfer":
            v = _COLORS[v]
        elif k == "style_blend":
            for i, w in enumerate(v):
                p.style_blend[i] = w
            continue
        elif k not in ("size", "iterations", "content_weight", "style_weight", "tv_weight", "style_scale",
                       "scales", "seed", "learning_rate", "lbfgs_history"):
            raise TypeError(f"stylize: unknown option {k!r}")
        setattr(p, k, v)
    raised = []

    def call(pp, _user):
        q = pp.contents
        try:
            progress({"iteration": q.iteration, "total": q.total, "scale": q.scale, "scales": q.scales,
                      "loss": q.loss, "content": q.content, "style": q.style, "tv": q.tv,
                      "elapsed": q.elapsed, "remaining": q.remaining})
        except BaseException as e:  # stop the run, raise it after
            raised.append(e)
            flag.value = 1

    flag = cancel._flag if cancel is not None else C.c_int(0)
    p.cancel = C.pointer(flag)
    if progress is not None:
        p.progress, p.report_every = _ProgressFn(call), report_every
    out, err = _Image(), _Error()
    rc = _lib.nst_stylize(net._p, C.byref(c.image), s_arr, len(s), C.byref(p), C.byref(out), C.byref(err))
    if region_set is not None:
        _lib.nst_regions_free(C.byref(region_set))
    if raised:
        if not rc:
            _lib.nst_image_free(C.byref(out))
        raise raised[0]
    _check(rc, err)
    return _result(out)


def apply(image, net, size=0, strength=1.0, color_transfer="none", tile=0):
    """Paint `image` with a feed-forward style network in one pass. net: a
    Generator or a name/path. size 0 keeps the image's size; color_transfer
    "luminance" keeps the photo's colours, "histogram" gives the result the
    photo's colour statistics. Returns (h, w, 3) uint8."""
    g = Generator(net) if isinstance(net, str) else net
    x = _Planar(image, "image")
    p = _ApplyParams()
    _lib.nst_apply_params_init(C.byref(p))
    p.size, p.strength, p.color_transfer, p.tile = size, strength, _COLORS[color_transfer], tile
    out, err = _Image(), _Error()
    _check(_lib.nst_apply(g._p, C.byref(x.image), C.byref(p), C.byref(out), C.byref(err)), err)
    return _result(out)
