"""The sandbox configuration: typed models (`schema`), their field types (`fields`), and loading (`loader`)."""

from explorer.sandbox.config.fields import ConfigError
from explorer.sandbox.config.loader import DEFAULT_CONFIG_PATH, load_config, parse_config
from explorer.sandbox.config.schema import SandboxConfig

__all__ = ["DEFAULT_CONFIG_PATH", "ConfigError", "SandboxConfig", "load_config", "parse_config"]
