#!/usr/bin/env bash
# Builds the solution and runs both test suites (properties/ and tests/), then prints their sum on
# the last line: "N passed, N failed". Extra arguments go to both Expecto runners, for example
#   ./test.sh --filter-test-case ERK      or      ./test.sh --sequenced --debug
set -uo pipefail
cd "$(dirname "$0")"

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# The MuJoCo tasks' tests need the engine (Debian's libmujoco-dev, MuJoCo 2.2.2): install it where it
# is missing (as root, or through sudo). Without it those tests fail and say how to install it.
if ! build/install-mujoco.sh; then
  echo "MuJoCo could not be installed (build/install-mujoco.sh): the MuJoCo tests will fail"
fi

echo "Building Hybrid.sln (Release)..."
if ! dotnet build Hybrid.sln -c Release -nologo -v quiet >"$logs/build" 2>&1; then
  cat "$logs/build"
  echo "the build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0
for suite in properties tests; do
  echo "== $suite"
  dotnet run --project "$suite" -c Release --no-build -- --no-spinner --colours 0 "$@" 2>&1 | tee "$logs/$suite"
  # Expecto colours its log even with --colours 0: strip escape sequences before reading the counts.
  counts=$(sed -E $'s/\x1b\\[[0-9;?]*[A-Za-z]//g' "$logs/$suite" | grep -aE "^$suite: [0-9]+ passed, [0-9]+ failed" | tail -n 1)
  if [[ -z "$counts" ]]; then
    echo "$suite: the runner stopped before reporting its counts"
    failed=$((failed + 1))
    continue
  fi
  read -r p f < <(sed -E 's/^[a-z]+: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/' <<<"$counts")
  passed=$((passed + p))
  failed=$((failed + f))
done

printf "\n%d passed, %d failed\n" "$passed" "$failed"
[[ $failed -eq 0 ]]
