"""The deployed stack, offline: template.yaml's pieces built and run in a sandbox.

Second layer of :mod:`outpost_mesh_sandbox`: imports :mod:`outpost_mesh_sandbox.aws` (and the
core), nothing from ``scenario`` or ``demo``.
"""
