"""What the command-line tests share: the environment mimovk runs in, and the device check."""
import os
import subprocess
import sys


def require_device(mvk, env):
    """Exits 77 (ctest's skip) when `mimovk devices` finds no Vulkan device; under CI=true a
    missing device is a failure instead (exit 1)."""
    if subprocess.run([mvk, "devices"], capture_output=True, env=env).returncode == 0:
        return
    ci = os.environ.get("CI") == "true"
    print("no Vulkan device" + (" (CI=true: failing)" if ci else ": skipped"))
    sys.exit(1 if ci else 77)
