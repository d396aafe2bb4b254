"""A PEP 517 build backend in the standard library only, so that
`pip install ./python` works offline (no setuptools fetched into pip's
isolated build environment).  It packs bazoola/*.py into a pure-Python
wheel; the module loads libbazoola.so.0 at import time.
"""
import base64
import hashlib
import os
import tarfile
import zipfile

NAME, VERSION = "bazoola", "0.1.0"
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIST_INFO = f"{NAME}-{VERSION}.dist-info"

METADATA = f"""\
Metadata-Version: 2.1
Name: {NAME}
Version: {VERSION}
Summary: Bazoola 0.0.7's API over libbazoola, the multi-process C engine
Requires-Python: >=3.8
License: MIT
"""
WHEEL = """\
Wheel-Version: 1.0
Generator: bazoola_build
Root-Is-Purelib: true
Tag: py3-none-any
"""


def _sources():
    pkg = os.path.join(HERE, NAME)
    for f in sorted(os.listdir(pkg)):
        if f.endswith(".py") and f != "_libpath.py":
            yield f"{NAME}/{f}", os.path.join(pkg, f)


def _record_line(arc, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
    return f"{arc},sha256={digest.rstrip(b'=').decode()},{len(data)}"


def _write_metadata(directory):
    d = os.path.join(directory, DIST_INFO)
    os.makedirs(d, exist_ok=True)
    for name, text in (("METADATA", METADATA), ("WHEEL", WHEEL)):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    return DIST_INFO


def get_requires_for_build_wheel(config_settings=None):
    return []


get_requires_for_build_sdist = get_requires_for_build_wheel
get_requires_for_build_editable = get_requires_for_build_wheel


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _write_metadata(metadata_directory)


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def _wheel(wheel_directory, files):
    name = f"{NAME}-{VERSION}-py3-none-any.whl"
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w",
                         zipfile.ZIP_DEFLATED) as z:
        entries = list(files) + [
            (f"{DIST_INFO}/METADATA", METADATA.encode()),
            (f"{DIST_INFO}/WHEEL", WHEEL.encode()),
            (f"{DIST_INFO}/top_level.txt", f"{NAME}\n".encode()),
        ]
        for arc, data in entries:
            z.writestr(arc, data)
            record.append(_record_line(arc, data))
        record.append(f"{DIST_INFO}/RECORD,,")
        z.writestr(f"{DIST_INFO}/RECORD", "\n".join(record) + "\n")
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = []
    for arc, path in _sources():
        with open(path, "rb") as f:
            files.append((arc, f.read()))
    return _wheel(wheel_directory, files)


def build_editable(wheel_directory, config_settings=None,
                   metadata_directory=None):
    # A .pth file that puts this source directory on sys.path.
    return _wheel(wheel_directory, [(f"{NAME}.pth", (HERE + "\n").encode())])


def build_sdist(sdist_directory, config_settings=None):
    base = f"{NAME}-{VERSION}"
    name = f"{base}.tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as t:
        for rel in ("pyproject.toml", "README.md", "_build/bazoola_build.py"):
            t.add(os.path.join(HERE, rel), f"{base}/{rel}")
        for arc, path in _sources():
            t.add(path, f"{base}/{arc}")
        meta = os.path.join(sdist_directory, "PKG-INFO.tmp")
        with open(meta, "w") as f:
            f.write(METADATA)
        t.add(meta, f"{base}/PKG-INFO")
        os.remove(meta)
    return name
