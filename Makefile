# The two commands of the README:
#   make        install what is missing, check every sample (sandboxed), build every output into output/
#   make test   install what is missing (test tools too) and run the test suite
.PHONY: all build test
all: build

build:
	@scripts/bootstrap.sh build
	.venv/bin/python build.py --sandbox required

test:
	@scripts/bootstrap.sh test
	.venv/bin/python -m pytest -n 2 -q
