#!/usr/bin/env python3
# Records community.general.pam_limits on the cases below into pam_limits.json:
# /usr/bin/python3 modules/testdata/ansible/record_pam_limits.py
import json, os, subprocess, tempfile
cases=[
 ("add", "# c\n*\tsoft\tnofile\t1024\n", dict(domain="mongod",limit_type="soft",limit_item="nofile",value="64000")),
 ("same", "# c\nmongod\tsoft\tnofile\t64000\n", dict(domain="mongod",limit_type="soft",limit_item="nofile",value="64000")),
 ("change with comment", "mongod soft nofile 1024 # old\n", dict(domain="mongod",limit_type="soft",limit_item="nofile",value="2048",comment="new")),
 ("use_max keeps larger", "mongod soft nofile 99999\n", dict(domain="mongod",limit_type="soft",limit_item="nofile",value="2048",use_max=True)),
 ("use_min", "mongod soft nofile 99999\n", dict(domain="mongod",limit_type="soft",limit_item="nofile",value="2048",use_min=True)),
 ("unlimited", "mongod hard nproc 10\n", dict(domain="mongod",limit_type="hard",limit_item="nproc",value="unlimited",use_max=True)),
 ("comment carried", "a soft core 0 # keep\n", dict(domain="b",limit_type="hard",limit_item="core",value="0")),
 ("bad value", "", dict(domain="b",limit_type="hard",limit_item="core",value="lots")),
 ("bad nice", "", dict(domain="b",limit_type="hard",limit_item="nice",value="30")),
]
out=[]
with tempfile.TemporaryDirectory() as d:
    p=os.path.join(d,'limits.conf')
    for name, init, a in cases:
        open(p,'w').write(init)
        a=dict(a, dest=p)
        af=os.path.join(d,'a.json'); json.dump({"ANSIBLE_MODULE_ARGS": a}, open(af,'w'))
        r=subprocess.run(["/usr/bin/python3","-m","ansible_collections.community.general.plugins.modules.pam_limits",af],capture_output=True,text=True)
        res=json.loads(r.stdout)
        out.append(dict(name=name, init=init, args={k:v for k,v in a.items() if k!='dest'}, content=open(p).read(), changed=res.get('changed',False), failed=bool(res.get('failed')), msg=res.get('msg','').replace(d,'DIR')))
json.dump(out, open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'pam_limits.json'),'w'), indent=1)
for o in out: print(o['name'], o['changed'], o['failed'], repr(o['msg'])[:80], repr(o['content']))
