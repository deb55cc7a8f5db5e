"""Running code inside a real headless Blender (PyPI bpy) with an isolated profile.

Owns: pointing Blender's user folders and the temp dir at a private folder *before*
`import bpy` (so nothing is written outside it), and installing / uninstalling the built
zip through Blender's own extension manager. Used by the test harness and the benchmark.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

MODULE = "bl_ext.user_default.nanobanana"
_DIRS = (("BLENDER_USER_CONFIG", "config"), ("BLENDER_USER_SCRIPTS", "scripts"),
         ("BLENDER_USER_EXTENSIONS", "extensions"), ("BLENDER_USER_DATAFILES", "datafiles"),
         ("TMPDIR", "tmp"))


def built_zip(root: Path) -> str | None:
    """The zip to test: $NANOBANANA_ZIP, else the newest dist/ linux-x64 build, else None."""
    import glob
    path = os.environ.get("NANOBANANA_ZIP")
    if path:
        return path
    hits = sorted(glob.glob(str(root / "dist" / "nanobanana-*-linux_x64.zip")))
    return hits[-1] if hits else None


def isolate(profile: str | os.PathLike[str] | None = None) -> Path:
    """Create the private profile and point Blender at it. Call before `import bpy`."""
    root = Path(profile or tempfile.mkdtemp(prefix="nb-profile-"))
    for var, sub in _DIRS:
        (root / sub).mkdir(parents=True, exist_ok=True)
        os.environ[var] = str(root / sub)
    tempfile.tempdir = str(root / "tmp")
    for var in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL"):
        os.environ.pop(var, None)
    return root


def enabled() -> bool:
    import bpy
    return MODULE in bpy.context.preferences.addons


def install(zip_path: str) -> None:
    import bpy
    bpy.context.preferences.system.use_online_access = True
    bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default",
                                             enable_on_install=True)
    # The operator returns FINISHED even when the install failed: check for real.
    if not enabled():
        raise RuntimeError(f"the extension did not install/enable from {zip_path}")


def uninstall() -> None:
    import bpy
    repos = bpy.context.preferences.extensions.repos
    index = next(i for i, r in enumerate(repos) if r.module == "user_default")
    bpy.ops.extensions.package_uninstall(repo_index=index, pkg_id="nanobanana")
