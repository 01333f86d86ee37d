"""The local sandbox: the moto server, seeding, the demo and JupyterLab."""
