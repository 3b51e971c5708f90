"""The shell commands of the docs, taken from the docs themselves, so that what a test runs is
what a reader types.

A command block is a ```sh fence right after a marker line:

    <!-- run: NAME -->            run by tests/obelisk/run, as written, under this name
    <!-- cargo test: NAME -->     run by the end-to-end tests (`cargo test`, tests/all), which
                                  read the page themselves; left alone here
    <!-- not run: REASON -->      shown to the reader, never run (the reason says why)

Every ```sh block of a checked page must carry one of the three, and every `run` block must be
run: `Docs.check_all_run` fails on a block no test ran. Each block runs on its own in
`bash -euo pipefail`, so it is self-contained: the variables it uses (`$DEPLOY`, …) come from
the environment the test gives it, as they come from the reader's shell.

Run directly, `docs.py run NAME` runs one block as written (tests/obelisk/install uses it).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("docs/production.md", "docs/engines.md")
# A block may be indented (inside a list item): its marker and fences share the indent.
MARKED_BLOCK = re.compile(
    r"^([ \t]*)<!-- (run: ([\w-]+)|cargo test: [\w-]+|not run: [^>]*?) -->\n\1```sh\n(.*?)^\1```$",
    re.S | re.M)
SH_BLOCK = re.compile(r"^[ \t]*```sh$", re.M)


class DocsError(Exception):
    pass


class Docs:
    def __init__(self, pages=PAGES):
        self.blocks = {}
        self.not_run = []
        self.ran = set()
        for page in pages:
            text = (ROOT / page).read_text()
            marked = MARKED_BLOCK.findall(text)
            if len(marked) != len(SH_BLOCK.findall(text)):
                raise DocsError(f"{page}: a ```sh block without a `run:` or `not run:` marker")
            for indent, marker, name, code in marked:
                code = "".join(line[len(indent):] for line in code.splitlines(keepends=True))
                if marker.startswith("cargo test:"):
                    continue
                if not name:
                    self.not_run.append((page, marker, code))
                elif name in self.blocks:
                    raise DocsError(f"{page}: two blocks named {name}")
                else:
                    self.blocks[name] = (page, code)

    def code(self, name):
        if name not in self.blocks:
            raise DocsError(f"no docs block named {name}")
        return self.blocks[name][1]

    def commands(self, name):
        """The block's commands, one per line (no comment lines, no continuations)."""
        lines = [line.strip() for line in self.code(name).splitlines()]
        return [line for line in lines if line and not line.startswith("#")]

    def run(self, name, env=None, cwd=ROOT, check=True, capture=True):
        """Runs the block as written; returns its CompletedProcess (stdout and stderr apart)."""
        self.ran.add(name)
        return run_bash(self.code(name), env=env, cwd=cwd, check=check, capture=capture)

    def mark_run(self, name):
        """A block the test ran in its own way, command by command (`commands`)."""
        self.code(name)
        self.ran.add(name)

    def start(self, name, env, cwd, log, new_session=False):
        """Starts a block that does not return (a server), its output into `log`."""
        self.ran.add(name)
        return subprocess.Popen(["bash", "-euo", "pipefail", "-c", self.code(name)], env=env,
                                cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=new_session)

    def check_all_run(self):
        left = sorted(set(self.blocks) - self.ran)
        if left:
            raise DocsError(f"docs blocks no test ran: {', '.join(left)}")


def run_bash(code, env=None, cwd=ROOT, check=True, capture=True):
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", code], env=env, cwd=cwd, text=True,
                          capture_output=capture)
    if check and done.returncode != 0:
        raise DocsError(f"exit {done.returncode} from:\n{code}\n--- stdout\n{done.stdout}"
                        f"\n--- stderr\n{done.stderr}")
    return done


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "run":
        sys.exit("usage: docs.py run NAME")
    Docs().run(sys.argv[2], env=dict(os.environ), capture=False)
