#!/bin/bash
set -euo pipefail
./configure --prefix="${PREFIX}" --disable-dependency-tracking
make -j"${CPU_COUNT}"
make install
