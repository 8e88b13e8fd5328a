"""The guides cannot drift from the command line.

Every ``biofeedback SUBCOMMAND`` named in ``README.md`` and ``docs/*.md`` must be a subcommand of
the real parser, and every ``--option`` must exist: on that subcommand when it is written as part
of a ``biofeedback ...`` command, otherwise on some subcommand (an option named in prose).
Commands of other programs (pip, pytest, make, systemctl ...) are left alone. The other way
round, the command table of ``docs/developers.md`` names every subcommand and option, and every
relative link in the guides points at a file and heading that exist.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from biofeedback.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: Programs whose options are theirs, not ours (first word of a command, path stripped).
FOREIGN_PROGRAMS = {
    "pip", "pip3", "pipx", "python", "python3", "py", "pytest", "make", "git", "systemctl",
    "sudo", "bluetoothctl", "ruff", "mypy", "brew", "sqlite3", "flock", "chromium", "usermod",
    "make_sample_data.py",  # the sample-data script has its own small parser
}  # fmt: skip
#: Options named in prose that belong to another program, with where they come from.
FOREIGN_OPTIONS = {
    "--ble-address": "the opt-in hardware tests' pytest option (tests/conftest.py)",
}

OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
FENCE = re.compile(r"^```(\w*)[^\n]*$(.*?)^```", re.M | re.S)
#: Fenced blocks in these languages hold commands; others (``text`` diagrams, ``python``) do not.
SHELL_BLOCKS = {"", "sh", "bash", "shell", "console"}
INLINE = re.compile(r"`([^`\n]+)`")


def _sub_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for a in parser._actions for o in a.option_strings if o.startswith("--")}


PARSER = build_parser()
COMMANDS = _sub_parsers(PARSER)
ALL_OPTIONS = (
    _options(PARSER)
    .union(*(_options(p) for p in COMMANDS.values()))
    .union(*(_options(n) for p in COMMANDS.values() for n in _sub_parsers(p).values()))
)


def _code_and_prose(text: str) -> tuple[list[str], str]:
    """Command lines (fenced block lines and inline code spans) and the prose left over."""
    code: list[str] = []
    for lang, block in FENCE.findall(text):
        if lang in SHELL_BLOCKS:
            code.extend(block.splitlines())
    prose = FENCE.sub("", text)
    code.extend(INLINE.findall(prose))
    return code, INLINE.sub("", prose)


def _commands(line: str) -> list[list[str]]:
    """Split a line of code into commands (``&&``, ``;``, ``|``), comments dropped."""
    line = re.sub(r"(^|\s)#\s.*$", "", line)
    line = line.replace("DEMO_ARGS=", "biofeedback demo ").replace('"', " ").replace("'", " ")
    return [part.split() for part in re.split(r"&&|;|\|", line) if part.strip()]


def problems_in(text: str) -> list[str]:
    """What ``text`` names that the parser does not have, one line each."""
    out: list[str] = []
    code, prose = _code_and_prose(text)
    for opt in OPTION.findall(prose):
        if opt not in ALL_OPTIONS and opt not in FOREIGN_OPTIONS:
            out.append(f"{opt} (in prose) is no option of any subcommand")
    for line in code:
        for words in _commands(line):
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words = words[1:]  # environment assignments
            if not words:
                continue
            names = [w.rsplit("/", 1)[-1] for w in words]
            if "biofeedback" in names:
                out += _check_command(words[names.index("biofeedback") + 1 :], " ".join(words))
            elif names[0] in FOREIGN_PROGRAMS:
                continue
            else:
                for opt in OPTION.findall(" ".join(words)):
                    if opt not in ALL_OPTIONS and opt not in FOREIGN_OPTIONS:
                        out.append(f"{opt} (in `{' '.join(words)}`) is no option of any subcommand")
    return out


def _check_command(args: list[str], shown: str) -> list[str]:
    """Check ``biofeedback ARGS``: the subcommand exists and has every option named."""
    if not args:
        return []
    parser: argparse.ArgumentParser = PARSER
    allowed = _options(PARSER)
    first = args[0]
    if not first.startswith("-"):
        if first in ("...", "COMMAND", "SUBCOMMAND"):
            allowed = ALL_OPTIONS
        elif first not in COMMANDS:
            return [f"`{shown}`: no subcommand {first!r}"]
        else:
            parser = COMMANDS[first]
            allowed = _options(parser)
            nested = _sub_parsers(parser)
            if len(args) > 1 and args[1] in nested:
                allowed = allowed | _options(nested[args[1]])
    return [
        f"`{shown}`: {opt} is no option of `biofeedback {first}`"
        for opt in OPTION.findall(" ".join(args))
        if opt not in allowed
    ]


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.name)
def test_every_command_and_option_named_exists(path: Path) -> None:
    assert path.exists(), f"{path} is missing"
    assert problems_in(path.read_text(encoding="utf-8")) == []


def test_the_guides_exist_and_are_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("client.md", "practitioner.md", "developers.md"):
        assert (ROOT / "docs" / name).exists()
        assert f"(docs/{name})" in readme


def test_the_checker_catches_drift() -> None:
    """The checker itself: a made-up subcommand or option is reported, real ones are not."""
    assert problems_in("`biofeedback analyze x.session --json --pace-bpm 6`") == []
    assert problems_in("```sh\nbiofeedback sessions delete NAME --yes\n```") == []
    assert problems_in('`make demo DEMO_ARGS="--speed 5 --theme dark"`') == []
    assert problems_in("`pip install --user pipx`") == []
    assert len(problems_in("`biofeedback analyse x.session`")) == 1
    assert len(problems_in("`biofeedback analyze x.session --no-such-option`")) == 1
    assert len(problems_in("`biofeedback demo --record out.session`")) == 1  # replay's option
    assert len(problems_in("run it with --made-up-flag")) == 1
    assert len(problems_in("```sh\nQT_QPA_PLATFORM=offscreen biofeedback demo --nope\n```")) == 1


LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    headings = re.findall(r"^#+\s+(.*?)\s*$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.name)
def test_links_between_the_guides_resolve(path: Path) -> None:
    """Every relative link (and image) points at a file that exists, and at a heading in it."""
    broken = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # https: and the like
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists() or (anchor and anchor not in _anchors(linked)):
            broken.append(target)
    assert broken == []


def test_the_developers_guide_names_every_subcommand_and_option() -> None:
    """The other direction: the CLI table in docs/developers.md is complete. A new subcommand or
    option fails here until the guide names it (in backticks, in its subcommand's row)."""
    text = (ROOT / "docs" / "developers.md").read_text(encoding="utf-8")
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([a-z-]+)` \|.*$", text, re.M)}
    missing = []
    for name, parser in COMMANDS.items():
        row = rows.get(name)
        if row is None:
            missing.append(f"biofeedback {name}")
            continue
        options = _options(parser).union(*(_options(n) for n in _sub_parsers(parser).values()))
        spans = " ".join(INLINE.findall(row))
        missing += [
            f"biofeedback {name} {opt}"
            for opt in sorted(options - {"--help"})
            if not re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", spans)
        ]
    assert missing == [], "add these to the command table of docs/developers.md"


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.name)
def test_names_imported_in_python_examples_exist(path: Path) -> None:
    """``from MODULE import NAME`` in the guides' Python examples still resolves (a module split
    must update the guides)."""
    import importlib

    missing = []
    for lang, block in FENCE.findall(path.read_text(encoding="utf-8")):
        if lang != "python":
            continue
        for module, names in re.findall(r"^from ([\w.]+) import ([\w, ]+)", block, re.M):
            if module.split(".")[0] not in ("hrv", "biofeedback"):
                continue
            mod = importlib.import_module(module)
            missing += [
                f"{module}.{n.strip()}" for n in names.split(",") if not hasattr(mod, n.strip())
            ]
    assert missing == []
