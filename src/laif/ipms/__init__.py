"""IPMS: keyed pseudonyms per project domain, personal-data detection, anonymity checks."""
