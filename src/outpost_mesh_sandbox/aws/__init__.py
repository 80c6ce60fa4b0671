"""The sandbox AWS: moto's server with what it lacks for this project, in one process.

Lowest layer of :mod:`outpost_mesh_sandbox`: imports nothing from ``stack``, ``scenario`` or
``demo``. :mod:`~outpost_mesh_sandbox.aws.control` and
:mod:`~outpost_mesh_sandbox.aws.identities` are stdlib only (other processes drive a sandbox
with them); everything else needs moto. Every change to a moto class is listed in
:mod:`~outpost_mesh_sandbox.aws.patches`.
"""
