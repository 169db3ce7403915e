"""The JSDoc types of the shipped scripts, checked by TypeScript's checker (Debian's node-typescript)."""
import shutil
import subprocess

from conftest import ROOT

ASSETS = ROOT / "Sources" / "Gateway" / "Web" / "Assets"
FLAGS = ["--allowJs", "--checkJs", "--noEmit", "--target", "es2022", "--module", "es2022", "--lib", "es2022,dom,dom.iterable"]


def tsc(*files):
    binary = shutil.which("tsc")
    assert binary, "tsc missing: scripts/browser-tests.sh installs node-typescript"
    return subprocess.run([binary, *FLAGS, *map(str, files)], capture_output=True, text=True, timeout=300)


def test_the_shipped_scripts_type_check():
    result = tsc(ASSETS / "presence-client.js", ASSETS / "app.js")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_checker_catches_a_wrong_type_positive_control(tmp_path):
    shutil.copy(ASSETS / "presence-client.js", tmp_path)
    misuse = tmp_path / "misuse.js"
    misuse.write_text("import { PresenceClient } from './presence-client.js';\nnew PresenceClient({ url: 42 });\n")
    result = tsc(misuse)
    assert result.returncode != 0 and "misuse.js" in result.stdout, result.stdout
