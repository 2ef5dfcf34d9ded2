"""Executors: where a sandbox spec's assessment runs. Here (the service layer runs it in process) or
on Slurm (`laif.compute.slurm`: a job array of shards, each running
`laif.services.assessment.run_shard`). The settings a spec gives every executor are
`laif.services.assessment.run_settings`."""
