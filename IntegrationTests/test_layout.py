"""The house rules of the source tree (ARCHITECTURE.md), checked on the files themselves:
every module declares what it imports, no long file without a reason, no name that
differs only by case, and ARCHITECTURE.md names only files that exist."""
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parents[1]
# Modules of the toolchain, not of the package graph.
SYSTEM = {"Foundation", "FoundationEssentials", "Testing", "XCTest", "Synchronization", "Glibc", "Dispatch"}


def targets():
    """(name, directory, declared dependencies) of every target in Package.swift."""
    text = (REPO / "Package.swift").read_text()
    found = []
    for match in re.finditer(r"\.(target|executableTarget|testTarget|systemLibrary)\(\s*name: \"([^\"]+)\"", text):
        kind, name = match.groups()
        # The target's own arguments: up to the parenthesis that closes it.
        depth, end = 0, match.start()
        for i in range(match.start(), len(text)):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            if depth == 0 and text[i] == ")":
                end = i
                break
        body = text[match.start():end]
        path = re.search(r"path: \"([^\"]+)\"", body)
        directory = REPO / (path.group(1) if path else ("Tests/" if kind == "testTarget" else "Sources/") + name)
        deps = set(re.findall(r"\.product\(name: \"([^\"]+)\"", body))
        start = body.find("dependencies: [")
        if start >= 0:
            listed = body[start:body.index("]", start)]
            deps |= set(re.findall(r"\"([A-Za-z0-9_]+)\"", re.sub(r"\.product\([^)]*\)", "", listed)))
        found.append((name, directory, deps))
    return found


def test_every_module_declares_the_modules_it_imports():
    problems = []
    for name, directory, deps in targets():
        imported = set()
        for source in directory.rglob("*.swift"):
            imported |= set(re.findall(r"^(?:@testable |@_exported )?import ([A-Za-z0-9_]+)", source.read_text(), re.M))
        undeclared = imported - deps - SYSTEM - {name}
        if undeclared:
            problems.append(f"{name} imports {sorted(undeclared)} without declaring them in Package.swift")
    assert problems == []
    assert not any("@_exported" in p.read_text() for p in (REPO / "Sources").rglob("*.swift"))


def test_no_source_file_over_500_lines_without_a_reason_at_its_top():
    long = []
    for source in list((REPO / "Sources").rglob("*.swift")) + list((REPO / "bench").rglob("*.swift")):
        lines = source.read_text().splitlines()
        if len(lines) > 500 and not lines[0].startswith("// Long because"):
            long.append(f"{source.relative_to(REPO)}: {len(lines)} lines")
    assert long == []


def test_no_two_names_in_one_folder_differ_only_by_case():
    clashes = []
    for folder in [REPO] + [p for p in REPO.rglob("*") if p.is_dir() and ".git" not in p.parts
                            and ".build" not in p.parts and ".venv" not in p.parts]:
        names = [p.name for p in folder.iterdir()]
        lowered = [n.lower() for n in names]
        clashes += [f"{folder}/{n}" for n in names if lowered.count(n.lower()) > 1]
    assert clashes == []


def test_architecture_names_only_files_that_exist():
    text = (REPO / "ARCHITECTURE.md").read_text()
    named = set(re.findall(r"`((?:Sources|Tests|IntegrationTests|Templates|bench|fuzz|deploy|docs|systemd|packaging)/[^`\s]*)`", text))
    named |= set(re.findall(r"`([A-Za-z]+\.(?:md|yaml|swift))`", text)) & {"README.md", "openapi.yaml", "Package.swift"}
    assert named, "ARCHITECTURE.md names no file"
    missing = sorted(n for n in named if not (REPO / n.rstrip("/")).exists() and "<" not in n and "*" not in n)
    assert missing == []


def test_the_invoice_key_is_written_once():
    # "Is this a scenario job" reads Invoice.dataKey; the string itself is its definition only.
    # The payments table's column of the same name, copied by `relance db copy`, is not that key.
    hits = sorted(f"{p.relative_to(REPO)}" for p in (REPO / "Sources").rglob("*.swift") if '"invoice_ref"' in p.read_text())
    assert hits == ["Sources/RelanceCore/Invoice.swift", "Sources/RelanceStore/DatabaseCopy.swift"]
    assert (REPO / "Sources/RelanceStore/DatabaseCopy.swift").read_text().count('"invoice_ref"') == 1
    assert not any('contains("bind(' in p.read_text() for p in (REPO / "Sources").rglob("*.swift"))
