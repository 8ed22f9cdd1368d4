#!/usr/bin/python3
"""The Dockerfile and deploy/install-deps.sh agree, checked on this (Debian) machine:
  1. the build stage installs with install-deps.sh itself;
  2. every runtime-stage package is one install-deps.sh brings in (named, or a dependency of one named);
  3. every tool the runtime stage installs (espeak-ng, flite, ...) is named in install-deps.sh;
  4. every shared library the built ttsd and ttsctl load (ldd) comes from a runtime-stage package, a
     dependency of one, or the base image's essential packages.
   dockerfile_test.py SOURCE_DIR TTSD TTSCTL"""
import os
import re
import subprocess
import sys

src, binaries = sys.argv[1], sys.argv[2:]
failures = []


def install_deps_packages():
    text = open(f"{src}/deploy/install-deps.sh").read()
    body = re.search(r"PACKAGES=\((.*?)\n\)", text, re.S).group(1)
    return {w for line in body.splitlines() for w in line.split("#")[0].split()}


def runtime_packages():
    text = open(f"{src}/Dockerfile").read()
    runtime = text[text.rindex("FROM debian:bookworm-slim"):]
    install = re.search(r"apt-get install (.*?)&& rm", runtime, re.S).group(1)
    return {w for w in install.replace("\\", " ").split() if not w.startswith("-")}


def depends(pkg):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Depends},${Pre-Depends}", pkg], capture_output=True, text=True)
    names = set()
    for alt in re.split(r"[,|]", out.stdout):
        name = alt.strip().split(" ")[0].split(":")[0]
        if name:
            names.add(name)
    return names


def closure(pkgs):
    seen, todo = set(), list(pkgs)
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(depends(p) - seen)
    return seen


def installed(pkg):
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return "install ok installed" in out.stdout


dev = install_deps_packages()
runtime = runtime_packages()
if "deploy/install-deps.sh" not in open(f"{src}/Dockerfile").read().split("FROM debian:bookworm-slim")[0]:
    failures.append("the build stage does not run deploy/install-deps.sh")
brought_in = closure(dev)
for p in sorted(runtime - {"ca-certificates"}):
    if p not in brought_in:
        failures.append(f"runtime package {p} is not installed by install-deps.sh (nor a dependency of what it names)")
for tool in ("espeak-ng", "flite", "sox", "pocketsphinx-en-us", "python3"):
    if tool in runtime and tool not in dev:
        failures.append(f"runtime tool {tool} is not named in install-deps.sh")

# The base image's essential packages carry libc, libstdc++, libgcc.
available = closure(runtime | {"libc6", "libstdc++6", "libgcc-s1", "libzstd1", "liblzma5", "libbz2-1.0"})
for binary in binaries:
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    for lib in re.findall(r"=> (/\S+)", ldd):
        # Alternatives (libblas.so.3 -> openblas) are symlinks; usr-merge records /lib/x as /usr/lib/x or
        # the reverse. Try each name the file goes by.
        names = [lib, os.path.realpath(lib)]
        names += [n[4:] if n.startswith("/usr/") else "/usr" + n for n in list(names)]
        for name in names:
            owner = subprocess.run(["dpkg", "-S", name], capture_output=True, text=True)
            if owner.returncode == 0:
                break
        if owner.returncode != 0:
            failures.append(f"{binary}: {lib} belongs to no Debian package")
            continue
        pkg = owner.stdout.split(":")[0]
        if pkg not in available:
            failures.append(f"{binary} loads {lib} from {pkg}, which the runtime image does not install")

for f in failures:
    print("FAIL:", f)
print(f"{len(runtime)} runtime packages, {len(dev)} install-deps packages, {len(binaries)} binaries checked")
sys.exit(1 if failures else 0)
