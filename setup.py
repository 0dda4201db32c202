from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["mktai*"]), "mktai.sample_data"])
