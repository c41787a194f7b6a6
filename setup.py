"""Packaging beyond pyproject.toml (which holds the metadata): the checkout's targets/ and configs/
go into the package as harness/targets and harness/configs (package data), where
harness.core.paths.search_dirs() finds them after `pip install .` (docs/targets.md: lookup order)."""

from setuptools import find_packages, setup

DATA = {"harness.targets": "targets", "harness.configs": "configs"}  # package → folder of the checkout

setup(packages=[*find_packages(include=["harness", "harness.*"]), *DATA], package_dir=DATA,
      package_data={package: ["*.yaml"] for package in DATA})
