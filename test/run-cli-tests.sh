#!/bin/sh
# CLI tests: under construction
exit 0
