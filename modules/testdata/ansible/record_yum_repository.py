#!/usr/bin/env python3
"""Record ansible-core's yum_repository for the cases in
yum_repository.cases.json (writes yum_repository.json).

Each case is {"name", "init" (content of DIR/ext.repo or null), "args"};
the module runs twice with `ansible -c local`, reposdir DIR and file ext;
the file after the first run, its msg and both runs' changed flags are
recorded. TestYumRepositoryRecorded replays them.
"""
import json, os, subprocess, tempfile

cases = json.load(open("yum_repository.cases.json"))
env = dict(os.environ, ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3")
out = []
for c in cases:
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "ext.repo")
        if c["init"] is not None:
            open(p, "w").write(c["init"])
        a = dict(c["args"], reposdir=d, file="ext")
        runs, contents = [], []
        for _ in range(2):
            r = subprocess.run(["ansible", "-i", "localhost,", "-c", "local", "localhost", "-m", "yum_repository",
                                "-a", json.dumps(a), "-o"], capture_output=True, text=True, env=env)
            head, res = r.stdout.strip().split("=>", 1)
            res = json.loads(res)
            res["failed"] = "FAILED" in head
            runs.append(res)
            contents.append(open(p).read() if os.path.exists(p) else None)
        msg = runs[0].get("msg", "").replace(d, "DIR")
        if msg.startswith("MODULE FAILURE"):
            msg = ""  # a Python traceback: only the failure is compared
        out.append(dict(c, content=contents[0], msg=msg, failed=runs[0].get("failed", False),
                        changed=runs[0].get("changed"), changed2=runs[1].get("changed")))
json.dump(out, open("yum_repository.json", "w"), indent=1)
