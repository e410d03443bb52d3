"""CI runs exactly the test command that the README gives."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    return [line.strip() for line in blocks[0].splitlines() if line.strip() and not line.startswith("#")]


def test_readme_starts_with_the_two_commands():
    commands = readme_commands()
    assert len(commands) == 2, commands
    assert "pip install" in commands[0] and "pip install" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in [line.strip() for line in ci]


def own_workflow() -> tuple[str, str]:
    """The README's "Write your own workflow": its CSV header and its test module, as written."""
    section = (ROOT / "README.md").read_text().split("### Write your own workflow", 1)[1].split("\n### ", 1)[0]
    header = re.search(r"```text\n(.*?)\n", section).group(1)
    module = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    return header, module


def test_the_readme_workflow_of_your_own_runs_and_gates(pytester):
    """The README's own-workflow example runs as written on a CSV of its layout: one item per test case, and a model
    that got worse against the stored run fails."""
    import numpy as np

    header, module = own_workflow()
    assert header == "locator,area,rooms,price,district"
    rng = np.random.default_rng(3)
    rooms = rng.integers(1, 6, 200)
    district = rng.choice(["north", "south"], 200)
    price = 50_000.0 * rooms + rng.normal(0, 20_000, 200)
    lines = [header] + [
        f"houses/{i:04d},{30 + 25 * r + rng.normal(0, 5):.1f},{r},{p:.1f},{d}"
        for i, (r, p, d) in enumerate(zip(rooms, price, district))
    ]
    (pytester.path / "data" / "houses" / "meta").mkdir(parents=True)
    (pytester.path / "data" / "houses" / "meta" / "metadata.csv").write_text("\n".join(lines) + "\n")
    pytester.makepyfile(test_price=module)
    args = ["-p", "no:randomly", "--kolena-suite=houses", "--kolena-data=data"]
    tagged = pytester.runpytest_subprocess(*args, "--kolena-tag=main")
    tagged.assert_outcomes(passed=6)  # basic, north, south, two by rooms, the suite item
    tagged.stdout.fnmatch_lines(["*per-room*houses :: district north*passed*"])
    pytester.makepyfile(test_price=module.replace("50_000.0 * house.rooms", "44_000.0 * house.rooms"))
    worse = pytester.runpytest_subprocess(*args, "--kolena-baseline=main")
    assert worse.ret == 1
    worse.stdout.fnmatch_lines(["*houses :: basic*regressed*", "*samples that got worse the most, by abs_error*"])
