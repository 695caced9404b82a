#!/usr/bin/env python3
"""Record ansible-core's behaviour for the file-editing modules' test cases.

Usage: python3 record.py MODULE  (reads MODULE.cases.json, writes MODULE.json)

Each case is {"name", "init" (file content or null), "args"}; the module is
run twice with `ansible -c local` on a scratch file and the resulting
content, msg and changed flags are recorded. The Go tests replay the cases
against mdo-play's modules (locally and over SSH) and expect the same.
"""
import json, os, subprocess, sys, tempfile

module = sys.argv[1]
cases = json.load(open(module + ".cases.json"))
env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3")
out = []
with tempfile.TemporaryDirectory() as d:
    p = os.path.join(d, "f")
    for c in cases:
        if os.path.exists(p):
            os.remove(p)
        if c["init"] is not None:
            open(p, "w").write(c["init"])
        a = dict(c["args"], path=p)
        runs = []
        for _ in range(2):
            r = subprocess.run(["ansible", "-i", "localhost,", "-c", "local", "localhost", "-m", module,
                                "-a", json.dumps(a), "-o"], capture_output=True, text=True, env=env)
            runs.append(json.loads(r.stdout.strip().split("=>", 1)[1]))
        content = open(p).read() if os.path.exists(p) else None
        out.append(dict(c, content=content, msg=runs[0].get("msg", ""), failed=runs[0].get("failed", False),
                        changed=runs[0].get("changed"), changed2=runs[1].get("changed")))
json.dump(out, open(module + ".json", "w"), indent=1)
