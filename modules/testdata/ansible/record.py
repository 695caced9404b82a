#!/usr/bin/env python3
"""Record ansible-core's behaviour for the file-editing modules' test cases.

Usage: python3 record.py MODULE  (reads MODULE.cases.json, writes MODULE.json)

Each case is {"name", "init" (file content or null), "args"}; the module is
run twice with `ansible -c local` on a scratch file and the content
after the first run, its msg and both runs' changed flags are recorded. The Go tests replay the cases
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
        runs, contents = [], []
        for _ in range(2):
            r = subprocess.run(["ansible", "-i", "localhost,", "-c", "local", "localhost", "-m", module,
                                "-a", json.dumps(a), "-o"], capture_output=True, text=True, env=env)
            head, res = r.stdout.strip().split("=>", 1)
            res = json.loads(res)
            res["failed"] = "FAILED" in head
            runs.append(res)
            contents.append(open(p).read() if os.path.exists(p) else None)
        content = contents[0]
        out.append(dict(c, content=content, msg=runs[0].get("msg", "").replace(d, "DIR"), failed=runs[0].get("failed", False),
                        changed=runs[0].get("changed"), changed2=runs[1].get("changed")))
json.dump(out, open(module + ".json", "w"), indent=1)
