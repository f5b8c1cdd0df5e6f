"""Databricks Apps API Explorer."""

from explorer.sdk_package import defer_sdk_init

__version__ = "0.1.0"

defer_sdk_init()  # the SDK's ~60 service modules load only if something needs them (sdk_package.py)
