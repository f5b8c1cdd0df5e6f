"""Collections, environments and a runner (see docs/COLLECTIONS.md).

A collection is a folder of plain-text files, one YAML file per request (posting's format plus
assertions, extractions and an auth reference), with `collection.yaml` at the root and
`environments/*.yaml` beside it. The pieces, for the CLI and any other front end:

    storage.FolderStorage(path) / workspace_storage.WorkspaceStorage.from_session(session, path)
    files.load_collection(storage) -> Collection        # .errors: LoadError(path, field, message)
    files.load_environment(storage, name) -> Environment
    files.save_request / save_collection / save_environment(storage, …, redactor) -> SaveResult
                                                         # secrets become references (.notices)
    runner.RunPlan.load(storage, env=…, cli_vars=…) -> RunPlan
    runner.preflight(plan, plan.requests()) -> [problem…]  # undefined variables, before sending
    runner.run(plan, identities.Identities(session, connector), on_result=…) -> RunReport
    report.result_line / to_junit / to_json / to_markdown(report, redactor)
    importers.{openapi,postman,curl,har} -> ImportResult;  export_postman.to_postman(collection)

Requests are sent by `ExplorerSession.send`, one session per identity, connected once.
"""
