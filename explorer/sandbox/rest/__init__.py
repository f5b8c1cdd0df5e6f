"""The workspace REST API the explorer and the SDK call: apps, app permissions, SCIM `Me`, workspace files."""
