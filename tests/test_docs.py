"""The documentation's pages show only what `make docs` ran: every code block is a file included from the
repository, every output and figure comes from an example examples/run_for_docs.py runs, and each page
has its Chinese twin showing the same code."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
INCLUDE = re.compile(r'^\s*--8<-- "([^"]+)"\s*$')
FENCE = re.compile(r"^(\s*)(```+|~~~+)")
GENERATED_IMAGE = re.compile(r"\]\(((?:\.\./)*generated/([^/)]+)/[^)]+)\)")
# Line-range includes quote part of a file: if the file moves, the quote must still start and end here.
QUOTED_RANGES = {
    "src/lstmkit/nn/cells.py:111:116": ("i   = sigmoid(", "h_t = o * tanh(c_t)"),
    "src/lstmkit/reference/numpy_lstm.py:9:24": ("Forward, for each layer", "dc_tm1 = dc * f"),
    "README.md:4:5": ("make demo", "make test"),
}


def load_runner():
    spec = importlib.util.spec_from_file_location("run_for_docs", ROOT / "examples" / "run_for_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUNNER = load_runner()
PAGES = sorted(DOCS.rglob("*.md"))


def code_blocks(page: Path) -> list[list[str]]:
    blocks, current, fence = [], None, None
    for line in page.read_text().splitlines():
        match = FENCE.match(line)
        if current is None and match:
            current, fence = [], match.group(2)
        elif current is not None and line.strip() == fence:
            blocks.append(current)
            current = None
        elif current is not None:
            current.append(line)
    assert current is None, f"{page}: an unclosed code block"
    return blocks


def includes(page: Path) -> list[str]:
    return [m.group(1) for line in page.read_text().splitlines() if (m := INCLUDE.match(line))]


def run_files() -> set[str]:
    """examples/ files the runner executes: its entries and the scripts its transcripts call."""
    return {path.relative_to(ROOT).as_posix() for file, _ in RUNNER.EXAMPLES.values() for path in RUNNER.shown_files(file)}


def test_pages_exist_in_both_languages():
    english = {p.relative_to(DOCS).as_posix() for p in PAGES if not p.name.endswith(".zh.md")}
    chinese = {p.relative_to(DOCS).as_posix().replace(".zh.md", ".md") for p in PAGES if p.name.endswith(".zh.md")}
    assert len(english) >= 12
    assert english == chinese


def test_navigation_lists_every_page():
    config = (ROOT / "mkdocs.yml").read_text()
    listed = set(re.findall(r":\s+([\w/-]+\.md)\s*$", config, flags=re.M))
    english = {p.relative_to(DOCS).as_posix() for p in PAGES if not p.name.endswith(".zh.md")}
    assert listed == english


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_every_code_block_is_an_included_file_the_docs_run_produced_or_ran(page):
    ran = run_files()
    text = page.read_text()
    assert "<pre" not in text and "<code" not in text, f"{page.name}: code in HTML typed by hand"
    for block in code_blocks(page):
        lines = [line for line in block if line.strip()]
        assert lines and all(INCLUDE.match(line) for line in lines), f"{page.name}: a code block typed by hand: {block}"
    for target in includes(page):
        path = target.split(":")[0]
        assert (ROOT / path).is_file() or path.startswith("docs/generated/"), f"{page.name}: {path} does not exist"
        if path.startswith("docs/generated/"):
            assert Path(path).stem in RUNNER.EXAMPLES, f"{page.name}: no example writes {path}"
        elif path.startswith("examples/"):
            assert path in ran, f"{page.name}: {path} is shown but make docs does not run it"
        elif path.startswith("benchmarks/results/") and path.endswith(".md"):
            assert f'```\n--8<-- "{target}"' not in text, f"{page.name}: {target} is a table of results, not code"
        else:
            assert target in QUOTED_RANGES, f"{page.name}: {target}: include examples/, docs/generated/ or a range in QUOTED_RANGES"
            first, last = QUOTED_RANGES[target]
            _, start, end = target.split(":")
            quoted = (ROOT / path).read_text().splitlines()[int(start) - 1 : int(end)]
            assert first in quoted[0] and last in quoted[-1], f"{target} no longer quotes what the page explains"
    for _, name in GENERATED_IMAGE.findall(page.read_text()):
        assert name in RUNNER.EXAMPLES, f"{page.name}: no example draws the figures under generated/{name}"


def test_both_languages_show_the_same_code_and_figures():
    for page in PAGES:
        if page.name.endswith(".zh.md"):
            english = page.with_name(page.name.replace(".zh.md", ".md"))
            assert includes(page) == includes(english), page.name
            assert GENERATED_IMAGE.findall(page.read_text()) == GENERATED_IMAGE.findall(english.read_text()), page.name


def test_every_example_the_runner_names_exists():
    for file, _ in RUNNER.EXAMPLES.values():
        assert (ROOT / "examples" / file).is_file(), file
        for path in RUNNER.shown_files(file):
            assert path.is_file(), f"{file} runs {path.relative_to(ROOT)}, which does not exist"


def test_transcripts_keep_commands_and_output_and_check_expected_failures(tmp_path):
    script = tmp_path / "demo.sh"
    script.write_text("# a comment\necho hello\n\nls missing-file  # exits 2\n")
    kept = RUNNER.run_transcript(script, tmp_path)
    assert kept.startswith("$ echo hello\nhello\n\n$ ls missing-file\n")
    assert "missing-file" in kept.split("$ ls missing-file\n")[1] and kept.endswith("(exit code 2)\n")
    script.write_text("ls missing-file\n")  # fails without saying it should
    with pytest.raises(SystemExit, match="exited 2, expected 0"):
        RUNNER.run_transcript(script, tmp_path)
    script.write_text("true  # exits 2\n")  # says it fails and does not
    with pytest.raises(SystemExit, match="exited 0, expected 2"):
        RUNNER.run_transcript(script, tmp_path)


def command_spans() -> list[tuple[str, str]]:
    """Every `lstmkit ...` command written in inline code on the pages and in the README."""
    spans = []
    for page in [*PAGES, ROOT / "README.md"]:
        spans += [(page.name, span) for span in re.findall(r"`(lstmkit [^`]+)`", page.read_text())]
    return spans


def test_commands_written_in_the_pages_name_real_subcommands_and_options():
    """The guide's commands are not run by make docs; their subcommands and options must still exist."""
    import typer

    from lstmkit.cli import app

    root = typer.main.get_command(app)
    is_group = lambda command: hasattr(command, "commands")  # typer vendors its own click: no isinstance
    checked = 0
    for page, span in command_spans():
        words = span.replace('"', " ").split()[1:]
        command, path = root, ["lstmkit"]
        while is_group(command) and words and words[0] in command.commands:
            command = command.commands[words[0]]
            path.append(words.pop(0))
        if is_group(command):
            continue  # a group named in prose ("lstmkit forecast --id-column", "lstmkit COMMAND --help")
        known = {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]} | {"--help"}
        for word in words:
            if word.startswith("--"):
                assert word.split("=")[0] in known, f"{page}: `{span}`: {' '.join(path)} has no option {word}"
        checked += 1
    assert checked >= 40
