"""The Step Functions workflow's side of reconciling: its Lambda tasks, what starts it, its
route batches and its rollback. Each Lambda handler (functions/) parses its input model, calls
one function here with the reconcile service, and returns the output model.

- ``triggers``: the CloudTrail trigger and the scheduled sweep (which VPCs, start executions);
- ``tasks``: claim, plan, associate, check, apply routes, disassociate, verify, release;
- ``batching``: route changes in stashed batches, and each batch's share of EC2's bucket;
- ``rollback``: the compensation every Catch runs.
"""
