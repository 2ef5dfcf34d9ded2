"""The datasets catalogue: data holders describe datasets (metadata only, never the data),
SMEs search them and request access, and the catalogue exports DCAT-AP for the EU portals.

- `entry`: a catalogue entry, checked field by field, and the draft a holder completes;
- `profile`: drafting an entry's metadata from a sample file (schema, ranges, personal data);
- `vocab`: the EU controlled vocabularies an entry uses;
- `store`: entries, full-text search and access requests, in SQLite or PostgreSQL;
- `dcat`: DCAT-AP 3 export, import and SHACL validation (shapes in `shapes/`).

Front ends call `laif.services.datasets`. Not to be confused with the AI Act's obligations
catalogue, which lives in `laif.compliance.obligations`.
"""
