# pip install ./python: the nst package, ctypes over the installed libnst.so
# (no compiler, no download: setuptools and numpy from the system).
from setuptools import setup

setup(
    name="nst",
    version="0.3.0",
    description="Neural style transfer: Python bindings of libnst",
    packages=["nst"],
    python_requires=">=3.9",
    install_requires=["numpy"],
)
