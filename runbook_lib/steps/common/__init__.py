"""common: see the modules beside this one."""
