"""Render Jinja test cases as Ansible does, for the converter's tests.

Reads a JSON list of {"kind": "template"|"expr", "src": ..., "vars": {...}}
on stdin and writes a JSON list of {"ok": true, "value": ...} or
{"ok": false, "error": ...}. With ansible-core importable, Ansible's Templar
renders (all of Ansible's filters and tests); otherwise plain Jinja2 with
Ansible's settings (trim_blocks, strict undefined), and cases that need an
Ansible filter or test come back as {"skip": ...}.
"""
import json
import sys

cases = json.load(sys.stdin)
out = []
try:
    from ansible.template import Templar
    from ansible.parsing.dataloader import DataLoader

    def render(src, variables):
        return Templar(loader=DataLoader(), variables=variables).template(src)
    mode = "ansible"
except ImportError:
    import jinja2

    env = jinja2.Environment(trim_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
                             finalize=lambda v: "" if v is None else v)

    def render(src, variables):
        return env.from_string(src).render(**variables)
    mode = "jinja2"

for c in cases:
    src = c["src"]
    try:
        if c["kind"] == "expr":
            # Ansible's Conditional renders a condition holding {{ or {%
            # as a template first (with a warning), then evaluates the text.
            pre = render(src, c["vars"]) if "{{" in src or "{%" in src else src
            if not isinstance(pre, str):
                out.append({"ok": True, "value": bool(pre)})
                continue
            src = "{%% if %s %%}True{%% else %%}False{%% endif %%}" % pre
        v = render(src, c["vars"])
        if c["kind"] == "expr":
            v = v is True or v == "True"
        out.append({"ok": True, "value": v})
    except Exception as e:  # noqa: BLE001 - every failure is reported
        msg = str(e)
        if mode == "jinja2" and ("No filter named" in msg or "No test named" in msg or "is undefined" in msg and "lookup" in src):
            out.append({"skip": msg})
        else:
            out.append({"ok": False, "error": "%s: %s" % (type(e).__name__, msg)})
json.dump({"mode": mode, "results": out}, sys.stdout, default=lambda o: list(o) if isinstance(o, (tuple, set)) else str(o))
