"""Signal receivers: side effects only (audit, mail). Connected in ``AccountsConfig.ready``."""
