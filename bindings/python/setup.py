"""The wheel holds libfaceless, a native library: tag it for the platform
(py3-none-PLATFORM; the package itself is pure ctypes, so any Python 3
interpreter on that platform can use it). tools/build_python_wheel.sh sets
FACELESS_VERSION and FACELESS_WHEEL_PLATFORM and places the library."""

import os

from setuptools import Distribution, setup

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70
    from wheel.bdist_wheel import bdist_wheel


class platform_wheel(bdist_wheel):
    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False
        platform = os.environ.get("FACELESS_WHEEL_PLATFORM")
        if platform:
            self.plat_name = platform
            self.plat_name_supplied = True

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


class binary_distribution(Distribution):
    # the package lands in platlib, beside nothing else, as a native one should
    def has_ext_modules(self):
        return True


if not os.path.isfile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "faceless", "libfaceless.so.0")):
    raise SystemExit("faceless/libfaceless.so.0 missing: build the wheel with tools/build_python_wheel.sh")

setup(version=os.environ["FACELESS_VERSION"], cmdclass={"bdist_wheel": platform_wheel},
      distclass=binary_distribution)
