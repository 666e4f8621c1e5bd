#!/usr/bin/env python3
"""Checks that the agent's layers include only layers below them.

Layers, lowest first (README.md, "Design notes"):
  core → pipeline, sources (base, then each protocol, then the list of the
  protocols built) → publish → diag → daemon
pipeline and sources do not include each other; a protocol folder
(agent/sources/<protocol>/) is included only by itself and by the list of
protocols (agent/sources/builtin/), so that any protocol can be left out of a
build. Every file under agent/ is mapped to its layer by its path and each of
its #include "..." lines to the layer of the included path. Includes of
files outside agent/ (the generated rackwatch/v1/*.pb.h) are not layers and
not checked here: CMake's links decide who may use them.

Usage: check_includes.py AGENT_DIR. Prints FILE:LINE: ... for each offending
include and exits 1; exits 0 when there is none.
"""
import os
import re
import sys

# Each layer and the layers it may include (itself included).
ALLOWED = {
    "core": {"core"},
    "pipeline": {"core", "pipeline"},
    "sources": {"core", "sources"},
    "protocol": {"core", "sources"},  # and its own folder; see layer_of()
    "builtin": {"core", "sources", "protocol", "builtin"},
    "publish": {"core", "pipeline", "sources", "publish"},
    "diag": {"core", "pipeline", "sources", "builtin", "publish", "diag"},
    "daemon": {"core", "pipeline", "sources", "builtin", "publish", "diag", "daemon"},
}
TOP_FOLDERS = {"core", "pipeline", "sources", "publish", "diag", "daemon"}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def layer_of(rel):
    """(layer, protocol) of a path relative to agent/, or None when the path
    is not in a layer's folder."""
    parts = rel.split("/")
    if len(parts) < 2 or parts[0] not in TOP_FOLDERS:
        return None
    if parts[0] == "sources" and len(parts) > 2:
        if parts[1] == "builtin":
            return ("builtin", None)
        return ("protocol", parts[1])
    return (parts[0], None)


def name(layer):
    kind, protocol = layer
    return f"sources/{protocol} (a protocol)" if kind == "protocol" else kind


def check(agent_dir):
    problems = []
    files = 0
    for dirpath, dirnames, filenames in os.walk(agent_dir):
        dirnames.sort()
        for fn in sorted(filenames):
            if not fn.endswith((".hpp", ".cpp", ".h", ".cc")):
                continue
            path = os.path.join(dirpath, fn)
            rel = os.path.relpath(path, agent_dir).replace(os.sep, "/")
            files += 1
            mine = layer_of(rel)
            if mine is None:
                problems.append(f"{path}:1: not in a layer's folder ({', '.join(sorted(TOP_FOLDERS))}):"
                                " give its folder a layer in tests/layers/check_includes.py")
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                for number, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    target = m.group(1)
                    if "/" not in target:  # beside the file
                        target = os.path.dirname(rel) + "/" + target
                    theirs = layer_of(target)
                    if theirs is None:
                        continue  # not the agent's (generated protobuf headers)
                    ok = theirs[0] in ALLOWED[mine[0]]
                    if mine[0] == "protocol" and theirs[0] == "protocol":
                        ok = theirs[1] == mine[1]
                    if not ok:
                        if mine[0] == "protocol" and theirs[0] == "protocol":
                            why = "protocols do not include each other"
                        elif theirs[0] == "protocol":
                            why = ("only sources/builtin/ includes a protocol, so that a build"
                                   " can leave any protocol out")
                        else:
                            why = (f"{name(mine)} may include only "
                                   f"{', '.join(sorted(ALLOWED[mine[0]] - {'protocol'}))}"
                                   + (" and its own folder" if mine[0] == "protocol" else "")
                                   + (" and the protocols" if "protocol" in ALLOWED[mine[0]] else ""))
                        problems.append(f'{path}:{number}: #include "{m.group(1)}": '
                                        f"{name(mine)} includes {name(theirs)}; {why}")
    return files, problems


def main():
    if len(sys.argv) != 2:
        print("usage: check_includes.py AGENT_DIR", file=sys.stderr)
        return 2
    agent_dir = sys.argv[1]
    files, problems = check(agent_dir)
    if files == 0:
        print(f"no source files under {agent_dir}", file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s) with the layering, in {files} files")
        return 1
    print(f"{files} files: every include respects the layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
