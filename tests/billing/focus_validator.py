"""The FinOps Foundation's `focus-validator` (PyPI, 2.2.1), in its own virtual environment.

It needs Python >= 3.12 (costopt runs on 3.11), so the harness looks for one on the machine
(pyenv's `~/.pyenv/versions/3.12*`/`3.13*`, or `python3.12`/`python3.13` on the PATH) and
creates the environment once, from PyPI, under the stack cache (`$COSTOPT_STACK_CACHE`, default
`~/.cache/costopt-stack`), as the Kafka jars are. Where there is no such Python the tests skip
saying so.

Two things about 2.2.1, measured when this was written (2026-12-07):
- it ships the rules ("model") of FOCUS 1.2 only (`model-1.2.0.1.json`); for another version
  it lists the releases of FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec through GitHub's API and
  downloads the release asset named `model-<ModelVersion>.json` (the highest ModelVersion
  starting with the one asked for: `model-1.3.0.4.json` serves `--validate-version 1.3`). The
  tests never download: they run with `--block-download` and `--rule-set-path`, and validate
  1.3 or 1.4 only where that version's model is vendored in `tests/data/focus-rules/` (see its
  README) or put in the cache's `focus-rules/` folder, skipping with the reason elsewhere;
- it does not pin pyarrow, whose 21+ needs NumPy 2 while it pins NumPy < 2, so pyarrow is held
  below 21; and it reads its currency list from a path relative to the working directory, so
  it runs from its own site-packages.

A CSV carries no types and the validator infers them (polars), so an all-digit
`BillingAccountId` (an AWS account) would be read as a number and `PricingQuantity` "1" as an
integer. `as_typed_parquet` writes the CSV's columns with the FOCUS data types each column has
in the spec, which is what the file means, for the validator to read.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.stack.kafka_broker import cache_root
from tests.stack.processes import cache_lock

VALIDATOR = "focus-validator==2.2.1"
HELD_BACK = "pyarrow<21"


class NoPython(RuntimeError):
    """No Python >= 3.12 on this machine: the validator cannot run here."""


def python_312_or_newer() -> Path | None:
    """A Python >= 3.12 on this machine, or None; 3.12 first, as NumPy < 2 (which the
    validator pins) has wheels for 3.12 and none for 3.13, where pip would build it."""
    pyenv = Path.home() / ".pyenv" / "versions"
    candidates = [*sorted(glob.glob(str(pyenv / "3.12*" / "bin" / "python3")), reverse=True),
                  *[found for name in ("python3.12",) if (found := shutil.which(name))],
                  *sorted(glob.glob(str(pyenv / "3.1[3-9]*" / "bin" / "python3"))),
                  *[found for name in ("python3.13",) if (found := shutil.which(name))]]
    for candidate in candidates:
        probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info >= (3, 12))"],
                               capture_output=True, text=True, timeout=60)
        if probe.returncode == 0 and probe.stdout.strip() == "True":
            return Path(candidate)
    return None


def venv_dir() -> Path:
    return cache_root() / "focus-validator-2.2.1"


VENDORED_RULES = Path(__file__).resolve().parent.parent / "data" / "focus-rules"


def rules_cache() -> Path:
    """Where FOCUS 1.3 and 1.4 model files (`model-1.3.json`, ...) are looked for after the
    repository's own `tests/data/focus-rules/`."""
    return cache_root() / "focus-rules"


def ensure_validator() -> Path:
    """The `focus-validator` executable, installing it once (under a lock: several test
    processes may ask at once). Raises NoPython where the machine has no Python for it."""
    venv = venv_dir()
    executable = venv / "bin" / "focus-validator"
    marker = venv / ".complete"
    if marker.exists():
        return executable
    python = python_312_or_newer()
    if python is None:
        raise NoPython("focus-validator 2.2.1 needs Python >= 3.12 and this machine has none "
                       "(looked in ~/.pyenv/versions and for python3.12/3.13 on the PATH)")
    with cache_lock(venv.parent / "focus-validator.lock"):
        if marker.exists():
            return executable
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([str(python), "-m", "venv", str(venv)], check=True, timeout=300)
        installed = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
             VALIDATOR, HELD_BACK], capture_output=True, text=True, timeout=1800)
        if installed.returncode != 0:
            raise RuntimeError(f"pip could not install {VALIDATOR}: {installed.stderr[-2000:]}")
        marker.touch()
    return executable


def _site_packages(executable: Path) -> Path:
    found = glob.glob(str(executable.parent.parent / "lib" / "python3.*" / "site-packages"))
    return Path(found[0])


def rules_for(executable: Path, version: str) -> Path | None:
    """A rules folder holding `version`'s model: the package's own (1.2), the repository's
    vendored copy, or the cache's."""
    packaged = _site_packages(executable) / "focus_validator" / "rules"
    for folder in (packaged, VENDORED_RULES, rules_cache()):
        if model_file(folder, version) is not None:
            return folder
    return None


@dataclass
class Validation:
    version: str
    passed: int
    failed: list[str]
    skipped: int
    output: str


def as_typed_parquet(csv: Path, types: dict[str, str], out: Path, executable: Path) -> Path:
    """The CSV as Parquet with each FOCUS column of its spec type (Decimal as double,
    Date/Time as UTC timestamps, the rest text; '' as null), written by the validator's own
    polars."""
    script = (
        "import json, sys, polars as pl\n"
        "types = json.loads(sys.argv[3])\n"
        "frame = pl.read_csv(sys.argv[1], infer_schema_length=0, missing_utf8_is_empty_string"
        "=False)\n"
        "casts = []\n"
        "for name in frame.columns:\n"
        "    kind = types.get(name)\n"
        "    col = pl.col(name)\n"
        "    if kind == 'Decimal':\n"
        "        casts.append(col.cast(pl.Float64))\n"
        "    elif kind == 'Date/Time':\n"
        "        casts.append(col.str.to_datetime('%Y-%m-%dT%H:%M:%SZ', time_zone='UTC'))\n"
        "frame.with_columns(casts).write_parquet(sys.argv[2])\n")
    subprocess.run([str(executable.parent / "python"), "-c", script, str(csv), str(out),
                    json.dumps(types)], check=True, capture_output=True, text=True, timeout=300)
    return out


def validate(executable: Path, data: Path, version: str, rules: Path,
             criteria: tuple[str, ...] = ()) -> Validation:
    """Run the validator on `data` (CSV or Parquet) against FOCUS `version`; never downloads.
    `criteria` are the model's applicability criteria the data's generator meets (what it
    supports: regions, tags, ...): the validator skips every rule that names one it is not
    given, so a column is checked only where its criterion is passed."""
    run = subprocess.run(
        [str(executable), "--data-file", str(data), "--validate-version", version,
         "--rule-set-path", str(rules), "--block-download",
         *(["--applicability-criteria", ",".join(criteria)] if criteria else [])],
        capture_output=True, text=True, timeout=900, cwd=_site_packages(executable),
        env={**os.environ, "NO_COLOR": "1"})
    output = run.stdout + run.stderr
    if run.returncode != 0 and "Traceback" in output:
        raise RuntimeError(f"focus-validator crashed:\n{output[-3000:]}")
    failed = sorted(set(re.findall(r"❌ (\S+): FAIL", output)))
    return Validation(version, len(re.findall(r"✅ \S+: PASS", output)), failed,
                      len(re.findall(r"⏭️ \S+: SKIPPED", output)), output)


def model_file(rules: Path, version: str) -> Path | None:
    """The model the validator reads for `version` in `rules`: of `model-1.3.json`,
    `model-1.3.0.4.json`, ..., the highest version, as its own matching picks; None if none."""
    def number(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in path.name[len("model-"):-len(".json")].split("."))
    found = [path for path in rules.glob("model-*.json")
             if re.fullmatch(rf"model-{re.escape(version)}(\.\d+)*\.json", path.name)]
    return max(found, key=number, default=None)


def contradictory_rules(rules: Path, version: str) -> set[str]:
    """Rules of a model no file can pass: a column's "MUST be null when ..." and "MUST NOT be
    null when ..." pair both without their condition (FOCUS 1.2.0.1's InvoiceId-C-004-C and
    -C-005-C: a file with InvoiceId fails one of them whatever it holds). Read from the model,
    so a validator that fixes them is held to them again."""
    path = model_file(rules, version)
    assert path is not None, f"no model of FOCUS {version} in {rules}"
    model = json.loads(path.read_text())
    by_column: dict[tuple[str, str], list[str]] = {}
    for rule_id, rule in model.get("ModelRules", {}).items():
        criteria = rule.get("ValidationCriteria", {})
        requirement = criteria.get("Requirement", {})
        if (rule.get("Function") == "Nullability" and not criteria.get("Condition")
                and requirement.get("Value", "") is None
                and requirement.get("CheckFunction") in ("CheckValue", "CheckNotValue")):
            by_column.setdefault((requirement.get("ColumnName", ""),
                                  requirement["CheckFunction"]), []).append(rule_id)
    out: set[str] = set()
    for (column, check), ids in by_column.items():
        if check == "CheckNotValue" and (column, "CheckValue") in by_column:
            out |= set(ids)
    return out
