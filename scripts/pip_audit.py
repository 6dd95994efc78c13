"""CI: audit the installed dependencies with pip-audit, and say plainly what it could not check.

pip-audit asks PyPI (or OSV) about every package. Without network, or behind a mirror that does
not serve PyPI's JSON API, it skips each package ("Dependency not found on PyPI") and still
prints "No known vulnerabilities found". This script counts what was really audited, says so
when nothing (or not everything) could be, and exits 0 then: the lack of a network must not
fail CI. A known vulnerability is listed and exits 1.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    if shutil.which("pip-audit") is None:
        print("pip-audit: not installed (pip install -e '.[dev]'); dependencies not audited")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        done = subprocess.run(  # noqa: S603  # nosec B603 B607: fixed arguments, no shell
            [shutil.which("pip-audit") or "pip-audit", "--local", "--progress-spinner", "off",
             "--format", "json", "--output", str(report), "--timeout", "20"],
            capture_output=True, text=True, timeout=600, check=False)
        if not report.exists():
            reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
            print(f"pip-audit: could not reach its vulnerability data ({reason[:200]}); "
                  "dependencies not audited")
            return 0
        deps = json.loads(report.read_text()).get("dependencies", [])
    skipped = [d["name"] for d in deps if d.get("skip_reason")]
    found = [(d["name"], d["version"], v) for d in deps for v in d.get("vulns", [])]
    for name, version, vuln in found:
        fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
        print(f"pip-audit: {name} {version}: {vuln['id']} (fixed in {fixed})")
    audited = len(deps) - len(skipped)
    if skipped:
        print(f"pip-audit: could not reach vulnerability data for {len(skipped)} of {len(deps)}"
              " packages (no network, or a mirror without PyPI's JSON API): those are not"
              " audited")
    print(f"pip-audit: {audited} packages audited, {len(found)} known vulnerabilities")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
