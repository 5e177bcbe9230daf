"""Points the integration harness at a build tree, for scripts outside
meson test (the migration demo and benchmark): sets DVS_SWITCHD and the
others as tests/integration/meson.build does, unless already set.  Call it
before importing dvstest, which reads them at import."""

import os

PATHS = {"DVS_SWITCHD": "qemu-netdev-dvs/dvs-switchd",
         "DVS_SWITCHCTL": "qemu-netdev-dvs/switchctl/dvs-switchctl",
         "DVS_DVSMGR": "dvsmgr/core/dvsmgr",
         "DVS_DVSCTL": "dvsmgr/dvsctl/dvsctl",
         "DVS_LIBVIRT_HOOK": "libvirt-hooks/dvs",
         "DVS_GUEST_DIR": "tests/integration/guest"}


def set_build_env(build):
    for k, rel in PATHS.items():
        os.environ.setdefault(k, os.path.join(build, rel))
