"""The configurator: one YAML sandbox spec describes an assessment wherever it runs.

- `spec`: the spec (pydantic; `laif sandbox schema` prints its JSON Schema), its gates;
- `render`: the same spec as self-contained bundles for other infrastructure (Slurm batch
  script, Docker Compose, Kubernetes), rendered and schema-checked.

Where a spec runs (here or on Slurm) is `laif.compute`.
"""
