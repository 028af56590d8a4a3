#!/usr/bin/env sh
# Checks the webauthn.h struct offsets of src/platform/windows/layout.ts against
# mingw-w64's <webauthn.h> at compile time (see check-struct-offsets.ts).
set -eu
cd "$(dirname "$0")/../.."
exec node --import tsx scripts/windows/check-struct-offsets.ts "$@"
