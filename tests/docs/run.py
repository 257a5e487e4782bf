#!/usr/bin/env python3
"""Runs every documentation snippet the way a user would, from a folder outside the
repository, against the packages and the Entra emulator. Called by tests/docs/run.sh,
which builds the packages; see that script for the inputs.

A snippet that runs must exit 0 and print a bearer token line (`Bearer`), within 120 s.
"""
import argparse
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import snippets as extract  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "templates")
TIMEOUT = 120
KOTLIN_VERSION = "2.4.21"  # the version bindings/java/kotlin builds with: one download


class Results:
    def __init__(self):
        self.rows = []

    def add(self, snip, status, detail=""):
        self.rows.append((snip["where"], snip["lang"], status, detail))
        line = f"  {status:<9} {snip['where']} ({snip['lang']})"
        if detail and status != "FAILED":
            line += f": {detail}"
        print(line, flush=True)
        if status == "FAILED":
            print("    " + detail.strip().replace("\n", "\n    "), flush=True)

    def failed(self):
        return [r for r in self.rows if r[2] == "FAILED"]


def sh(cmd, cwd, env, timeout=TIMEOUT):
    """Runs cmd (a list, or a string for bash); returns (rc, combined output)."""
    try:
        p = subprocess.run(cmd if isinstance(cmd, list) else ["bash", "-euo", "pipefail", "-c", cmd],
                           cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout, text=True)
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return 124, out + f"\n(timed out after {timeout} s)"


def check_run(rc, out):
    """A snippet that runs must succeed and print a token line."""
    if rc != 0:
        return f"exit status {rc}:\n{tail(out)}"
    if "Bearer" not in out:
        return f"printed no bearer token:\n{tail(out)}"
    return None


def tail(text, n=40):
    lines = re.sub(r"\x1b\[[0-9;]*m", "", text).rstrip().split("\n")
    return "\n".join(lines[-n:])


def fill(template, code):
    """The template's text with the snippet in place of its `@snippet` line. A template with an
    `@inside OTHER` line (in a comment) is itself a fragment: filled, it goes into OTHER in turn."""
    names = [n for n in os.listdir(TEMPLATES) if os.path.splitext(n)[0] == template]
    if len(names) != 1:
        raise SystemExit(f"no template tests/docs/templates/{template}.*")
    text = open(os.path.join(TEMPLATES, names[0]), encoding="utf-8").read()
    outer = re.search(r"^[ \t]*(?://|#)?[ \t]*@inside[ \t]+(\S+)[ \t]*\n", text, re.M)
    if outer:
        text = text[: outer.start()] + text[outer.end():]
    out, done = [], False
    for line in text.split("\n"):
        if "@snippet" in line:
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + l if l else l for l in code.rstrip("\n").split("\n")]
            done = True
        else:
            out.append(line)
    if not done:
        raise SystemExit(f"template {template} has no @snippet line")
    return fill(outer.group(1), "\n".join(out)) if outer else "\n".join(out)


def origin(snip, comment):
    return f"{comment} doc test: {snip['where']}"


def build_block(snip, all_snips):
    """The `doctest: build` shell block documented after this program, before any other of its language."""
    return next((b for b in all_snips if b["file"] == snip["file"] and b["mode"] == "build"
                 and b["line"] > snip["line"]
                 and not any(o["file"] == snip["file"] and snip["line"] < o["line"] < b["line"]
                             and o["lang"] == snip["lang"] for o in all_snips)), None)


# ---------------------------------------------------------------- C
def run_c(snips, all_snips, ctx, res):
    inc = os.path.join(ctx.repo, "include")
    libdir = os.path.dirname(ctx.lib)
    for n, s in enumerate(snips):
        d = os.path.join(ctx.work, "c", f"s{n}")
        os.makedirs(d)
        code = fill(s["template"], s["code"]) if s["template"] else s["code"]
        with open(os.path.join(d, "app.c"), "w") as f:
            f.write(f"/* {origin(s, '')} */\n" + code)
        if s["mode"] == "compile":
            rc, out = sh(["cc", "-std=c11", "-Wall", "-Werror", "-c", f"-I{inc}", "app.c"], d, ctx.env)
            res.add(s, "compiled" if rc == 0 else "FAILED", s["reason"] if rc == 0 else tail(out))
            continue
        build = build_block(s, all_snips)
        if build:
            # The documented build lines, with the documented placeholders filled in.
            script = (build["code"].replace("/path/to/paytrim-auth", ctx.repo)
                      .replace("/path/to/your/app", d))
            rc, out = sh(script, d, ctx.env)
            how = f"built and run by the lines at {build['where']}"
        else:
            rc, out = sh(f"cc -std=c11 -Wall -Werror -I{inc} app.c -L{libdir} -lpaytrim_auth "
                         f"-Wl,-rpath,{libdir} -o app && ./app", d, ctx.env)
            how = ""
        err = check_run(rc, out)
        res.add(s, "FAILED" if err else "ok", err or how)


# ---------------------------------------------------------------- Java and Kotlin
POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 http://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>doctest</groupId>
  <artifactId>readme-snippets</artifactId>
  <version>1</version>
  <properties>
    <maven.compiler.release>11</maven.compiler.release>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
    <kotlin.version>KOTLIN_VERSION</kotlin.version>
  </properties>
  <dependencies>
    DEPENDENCY
    <dependency>
      <groupId>org.jetbrains.kotlin</groupId>
      <artifactId>kotlin-stdlib</artifactId>
      <version>${kotlin.version}</version>
    </dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.jetbrains.kotlin</groupId>
        <artifactId>kotlin-maven-plugin</artifactId>
        <version>${kotlin.version}</version>
        <executions>
          <execution><id>compile</id><goals><goal>compile</goal></goals>
            <configuration><sourceDirs>
              <sourceDir>${project.basedir}/src/main/kotlin</sourceDir>
              <sourceDir>${project.basedir}/src/main/java</sourceDir>
            </sourceDirs></configuration>
          </execution>
        </executions>
        <configuration><jvmTarget>11</jvmTarget></configuration>
      </plugin>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-compiler-plugin</artifactId>
        <version>3.11.0</version>
        <executions>
          <execution><id>default-compile</id><phase>none</phase></execution>
          <execution><id>java-compile</id><phase>compile</phase><goals><goal>compile</goal></goals></execution>
        </executions>
      </plugin>
    </plugins>
  </build>
</project>
"""


def run_jvm(snips, dependency, ctx, res):
    if not snips:
        return
    if dependency is None:
        for s in snips:
            res.add(s, "FAILED", "no snippet is marked `doctest: maven dependency` (the <dependency> users copy)")
        return
    d = os.path.join(ctx.work, "maven")
    os.makedirs(d)
    with open(os.path.join(d, "pom.xml"), "w") as f:
        f.write(POM.replace("KOTLIN_VERSION", KOTLIN_VERSION).replace("DEPENDENCY", dependency["code"].strip()))
    mains = {}
    for n, s in enumerate(snips):
        pkg = f"doctest.s{n}"
        code = fill(s["template"], s["code"]) if s["template"] else s["code"]
        if s["lang"] == "java":
            m = re.search(r"^(?:public\s+)?(?:final\s+)?class\s+(\w+)", code, re.M)
            cls = m.group(1) if m else "Snippet"
            path = os.path.join(d, "src/main/java/doctest", f"s{n}", cls + ".java")
            text = f"package {pkg}; // {origin(s, '')}\n" + code
        else:
            cls = "SnippetKt"
            path = os.path.join(d, "src/main/kotlin/doctest", f"s{n}", "Snippet.kt")
            text = f"package {pkg} // {origin(s, '')}\n" + code
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        mains[n] = f"{pkg}.{cls}"
    mvn = ["mvn", "-q", "-B"]
    # The jar goes where the README says (`mvn install`: ~/.m2), under the lock of this suite,
    # held until the last snippet has run: the snippets run from the ~/.m2 jar, and another
    # run's install between compile and run swapped the jar under a running JVM
    # (NoClassDefFoundError of a class this jar has).
    os.makedirs(os.path.expanduser("~/.m2"), exist_ok=True)
    with open(os.path.expanduser("~/.m2/.paytrim-doctest.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rc, out = sh(mvn + ["install:install-file", f"-Dfile={ctx.jar}",
                            f"-DpomFile={os.path.join(ctx.repo, 'bindings/java/pom.xml')}"], d, ctx.env, 600)
        if rc == 0:
            rc, out = sh(mvn + ["compile", "dependency:build-classpath", "-Dmdep.outputFile=cp.txt"],
                         d, ctx.env, 900)
        if rc != 0:
            for i, s in enumerate(snips):
                res.add(s, "FAILED", "the Maven project of the snippets did not build" +
                        (":\n" + tail(out, 60) if i == 0 else " (see above)"))
            return
        cp = os.path.join(d, "target/classes") + ":" + open(os.path.join(d, "cp.txt")).read().strip()
        for n, s in enumerate(snips):
            if s["mode"] == "compile":
                res.add(s, "compiled", s["reason"])
                continue
            rc, out = sh(["java", "-cp", cp, mains[n]], d, ctx.env)
            err = check_run(rc, out)
            res.add(s, "FAILED" if err else "ok", err or "")


# ---------------------------------------------------------------- C#
def run_csharp(snips, all_snips, ctx, res):
    if not snips:
        return
    pkg = os.path.join(ctx.work, "nupkg")
    with zipfile.ZipFile(ctx.nupkg) as z:
        z.extractall(pkg)
    files = ["lib/netstandard2.0/Paytrim.Auth.dll", "lib/netstandard2.0/Paytrim.Auth.dll.config",
             "runtimes/linux-x64/native/libpaytrim_auth.so"]
    for n, s in enumerate(snips):
        d = os.path.join(ctx.work, "csharp", f"s{n}")
        os.makedirs(d)
        # As the C# README says for Mono: the assembly, its dllmap and the native library side by side.
        for f in files:
            shutil.copy(os.path.join(pkg, f), d)
        code = fill(s["template"], s["code"]) if s["template"] else s["code"]
        with open(os.path.join(d, "Program.cs"), "w") as f:
            f.write(f"// {origin(s, '')}\n" + code)
        build = build_block(s, all_snips) if s["mode"] == "run" else None
        if build:
            # The documented commands, from a folder holding Program.cs and the package.
            for f in os.listdir(d):
                if f != "Program.cs":
                    os.remove(os.path.join(d, f))
            shutil.copy(ctx.nupkg, d)
            rc, out = sh(build["code"], d, ctx.env)
            err = check_run(rc, out)
            res.add(s, "FAILED" if err else "ok", err or f"built and run by the lines at {build['where']}")
            continue
        rc, out = sh(["mcs", "-nologo", "-out:app.exe", "-r:Paytrim.Auth.dll", "-r:System.Net.Http.dll",
                      "Program.cs"], d, ctx.env)
        if rc != 0:
            res.add(s, "FAILED", "mcs:\n" + tail(out))
            continue
        if s["mode"] == "compile":
            res.add(s, "compiled", s["reason"])
            continue
        rc, out = sh(["mono", "app.exe"], d, ctx.env)
        err = check_run(rc, out)
        res.add(s, "FAILED" if err else "ok", err or "")


# ---------------------------------------------------------------- Node
def run_node(snips, ctx, res):
    if not snips:
        return
    d = os.path.join(ctx.work, "node")
    os.makedirs(d)
    # An empty project with the TypeScript checker (pinned by tests/docs/node's lockfile), then
    # the package from its tarball, as the Node README says.
    for f in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(HERE, "node", f), d)
    t0 = time.time()
    rc, out = sh(["npm", "ci", "--no-audit", "--no-fund", "--prefer-offline"], d, ctx.env, 300)
    if rc == 0:
        # The Node README: the tarball "installs offline with no compiler". So: --offline, and a PATH
        # whose compilers and build tools refuse to run (koffi's install script rebuilds from source
        # with cmake when it finds no prebuilt binary).
        fake = os.path.join(ctx.work, "no-compiler")
        os.makedirs(fake, exist_ok=True)
        for tool in ("cc", "gcc", "c++", "g++", "clang", "clang++", "cmake", "make", "ninja"):
            with open(os.path.join(fake, tool), "w") as f:
                f.write(f"#!/bin/sh\necho 'npm install ran {tool}: the package needs a compiler' >&2\nexit 1\n")
            os.chmod(os.path.join(fake, tool), 0o755)
        env = dict(ctx.env, PATH=fake + os.pathsep + ctx.env.get("PATH", ""))
        rc, out = sh(["npm", "install", "--no-audit", "--no-fund", "--offline", "--no-save", ctx.tgz], d, env, 300)
    print(f"  (npm ci + npm install {os.path.basename(ctx.tgz)}: {time.time() - t0:.0f} s)", flush=True)
    if rc != 0:
        for s in snips:
            res.add(s, "FAILED", f"npm install {ctx.tgz}:\n" + tail(out))
        return
    to_check = []
    for n, s in enumerate(snips):
        code = fill(s["template"], s["code"]) if s["template"] else s["code"]
        ext = ".mjs" if re.search(r"^import\s", code, re.M) else ".js"
        name = f"s{n}{ext}"
        with open(os.path.join(d, name), "w") as f:
            f.write(f"// {origin(s, '')}\n" + code)
        if s["mode"] == "compile":
            to_check.append((s, name))
            continue
        t0 = time.time()
        rc, out = sh(["node", name], d, ctx.env)
        err = check_run(rc, out)
        res.add(s, "FAILED" if err else "ok", err or f"{time.time() - t0:.1f} s")
    if to_check:
        # Not run: type-checked (one tsc run for all) against the package's index.d.ts, so a renamed
        # option or method fails.
        rc, out = sh(["node", "node_modules/typescript/bin/tsc", "--noEmit", "--allowJs", "--checkJs",
                      "--target", "es2022", "--module", "commonjs", "--types", "node", "--skipLibCheck"]
                     + [name for _, name in to_check], d, ctx.env, 300)
        lines = re.sub(r"\x1b\[[0-9;]*m", "", out).split("\n")
        for s, name in to_check:
            mine = [l for l in lines if l.startswith(name + "(")]
            if rc != 0 and (mine or not any(l.startswith(tuple(n + "(" for _, n in to_check)) for l in lines)):
                res.add(s, "FAILED", "tsc --checkJs:\n" + "\n".join(mine or [tail(out)]))
            else:
                res.add(s, "compiled", s["reason"] + " (type-checked)")


# ---------------------------------------------------------------- Rust
CARGO_TOML = """[package]
name = "NAME"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
paytrim-auth = { path = "REPO" }

[workspace]
"""


def run_rust(snips, ctx, res):
    """Each snippet in a cargo project of its own outside the repository, depending on the crate by
    path, built offline with the repository's Cargo.lock (the same versions) into the repository's
    target directory, so the dependencies `cargo test` built are reused."""
    target = os.environ.get("CARGO_TARGET_DIR") or "target"
    env = dict(ctx.env, CARGO_TARGET_DIR=os.path.join(ctx.repo, target))
    for n, s in enumerate(snips):
        d = os.path.join(ctx.work, "rust", f"s{n}")
        os.makedirs(os.path.join(d, "src"))
        with open(os.path.join(d, "Cargo.toml"), "w") as f:
            f.write(CARGO_TOML.replace("NAME", f"paytrim-doctest-s{n}").replace("REPO", ctx.repo))
        shutil.copy(os.path.join(ctx.repo, "Cargo.lock"), d)
        code = fill(s["template"], s["code"]) if s["template"] else s["code"]
        with open(os.path.join(d, "src", "main.rs"), "w") as f:
            f.write(f"// {origin(s, '')}\n" + code)
        t0 = time.time()
        if s["mode"] == "compile":
            rc, out = sh(["cargo", "build", "--offline", "-q"], d, env, 900)
            res.add(s, "compiled" if rc == 0 else "FAILED", s["reason"] if rc == 0 else "cargo build:\n" + tail(out))
            continue
        rc, out = sh(["cargo", "run", "--offline", "-q"], d, env, 900)
        err = check_run(rc, out)
        res.add(s, "FAILED" if err else "ok", err or f"cargo run: {time.time() - t0:.0f} s")


# ---------------------------------------------------------------- main
class Ctx:
    pass


def start_emulator(path):
    p = subprocess.Popen([path, "--exit-on-stdin-eof"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ready = json.loads(p.stdout.readline())
    return p, ready


def main():
    ap = argparse.ArgumentParser()
    for a in ("repo", "lib", "emulator", "jar", "nupkg", "tgz", "work"):
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--only", default="", help="comma-separated languages (c,java,kotlin,csharp,js,rust)")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    ctx = Ctx()
    for a in ("repo", "lib", "emulator", "jar", "nupkg", "tgz", "work"):
        setattr(ctx, a, os.path.abspath(getattr(args, a)))

    found, errors = [], []
    for f in args.files:
        s, e = extract.snippets(f)
        found += s
        errors += e
    for e in errors:
        print("doc tests: " + e)

    emu, ready = start_emulator(ctx.emulator)
    # What the README's "Testing against the emulator" tells a user to set.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PAYTRIM_", "AZURE_", "JAVA_TOOL_OPTIONS", "LD_LIBRARY_PATH"))}
    env.update(PAYTRIM_CLIENT_ID=ready["client_id"], PAYTRIM_CLIENT_SECRET=ready["client_secret"],
               PAYTRIM_TENANT_ID="contoso.onmicrosoft.com", PAYTRIM_AUTHORITY_HOST=ready["https"],
               PAYTRIM_CA_FILE=ready["ca_file"], PAYTRIM_EMULATOR_HTTP=ready["http"])
    ctx.env = env
    print(f"doc tests: {len(found)} snippets; emulator at {ready['https']}; working in {ctx.work}", flush=True)

    only = set(filter(None, args.only.split(",")))
    res = Results()
    t0 = time.time()
    try:
        by = lambda *langs: [s for s in found if s["lang"] in langs and s["mode"] in ("run", "compile")
                             and (not only or s["lang"] in only)]
        for s in found:
            if s["mode"] == "skip":
                res.add(s, "skipped", s["reason"])
        dep = next((s for s in found if s["mode"] == "dependency"), None)
        for name, step in (("C", lambda: run_c(by("c"), found, ctx, res)),
                           ("Java and Kotlin", lambda: run_jvm(by("java", "kotlin"), dep, ctx, res)),
                           ("C#", lambda: run_csharp(by("csharp"), found, ctx, res)),
                           ("Node", lambda: run_node(by("js"), ctx, res)),
                           ("Rust", lambda: run_rust(by("rust"), ctx, res))):
            t1 = time.time()
            step()
            print(f"  ({name}: {time.time() - t1:.0f} s)", flush=True)
        for s in found:
            if s["mode"] in ("run", "compile") and s["lang"] not in ("c", "java", "kotlin", "csharp", "js", "rust"):
                res.add(s, "FAILED", f"no runner for {s['lang']} snippets")
    finally:
        emu.stdin.close()
        emu.wait(10)
    counts = {}
    for r in res.rows:
        counts[r[2]] = counts.get(r[2], 0) + 1
    print(f"doc tests: {', '.join(f'{v} {k}' for k, v in sorted(counts.items()))}, "
          f"{len(errors)} unmarked ({time.time() - t0:.0f} s)")
    return 1 if res.failed() or errors else 0


if __name__ == "__main__":
    sys.exit(main())
