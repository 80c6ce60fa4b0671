"""The local sandbox AWS for outpost-mesh, in four layers; each imports only the ones before it
(tests/unit/test_sandbox_imports.py checks it):

* :mod:`.aws`: moto's server and what it lacks for this project (Outposts, LGW routes, paging,
  throttling, faults, call recording), every change to moto in one registry (``aws.patches``);
* :mod:`.stack`: template.yaml's stack deployed in a sandbox (functions run in-process, the state
  machine, the rules, CloudTrail-shaped events);
* :mod:`.scenario`: scenario files (docs/scenario-format.md) and seeding them;
* :mod:`.demo`: a scenario run through the stack, and its report.
"""
