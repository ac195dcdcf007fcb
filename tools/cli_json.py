"""Running the release CLI over many images: one parsed `--json` record per image."""
import json
import subprocess
import sys


def records(cli, command, paths, options=(), batch=200, env=None):
    """Yields what `faceless COMMAND --json OPTIONS PATHS...` prints, `batch` paths a run
    (exit 1, some image unreadable, still yields the others; anything else stops)."""
    for i in range(0, len(paths), batch):
        res = subprocess.run([cli, command, "--json", *options, *paths[i:i + batch]],
                             capture_output=True, text=True, env=env)
        if res.returncode not in (0, 1):
            sys.exit(f"{cli} {command} failed ({res.returncode}): {res.stderr.strip()}")
        for line in res.stdout.splitlines():
            yield json.loads(line)
