"""Collections, environments and a runner (see docs/COLLECTIONS.md).

A collection is a folder of plain-text files, one YAML file per request (posting's format plus
assertions, extractions and an auth reference), with `collection.yaml` at the root and
`environments/*.yaml` beside it. `files` reads and writes them (validated by `schema.json`,
secrets never written), `runner` runs them through `ExplorerSession.send`, `report` turns a run
into console lines, JUnit XML, JSON and Markdown, and `importers` / `export_postman` convert
OpenAPI, Postman, curl and HAR.
"""
