"""The sandbox: a local, protocol-faithful stand-in Databricks workspace, OAuth server and Apps gateway."""
