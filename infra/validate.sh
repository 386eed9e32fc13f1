#!/usr/bin/env bash
# Offline validation of the Azure deployment (no Azure login, no network beyond NuGet).
#
#   infra/validate.sh [OUT_DIR]        default OUT_DIR: infra/out (gitignored)
#
# 1. restores the Bicep CLI from NuGet (infra/tools/Bicep.csproj, Azure.Bicep.CommandLine.linux-x64)
# 2. bicep build main.bicep  -> OUT_DIR/main.json (the ARM template azd deploys)
# 3. bicep lint main.bicep   (rules and their levels: infra/bicepconfig.json)
# 4. bicep snapshot of a sample parameter set -> OUT_DIR/sample.snapshot.json (every resource with
#    its properties evaluated; handy for review; runtime values stay as reference() expressions)
# 5. bicep format check: every .bicep file is as `bicep format` writes it
# Any warning or error from steps 2-4 fails the script: warnings are errors here unless
# bicepconfig.json turns the rule off with a written reason. `Warning BCP081` (unknown API
# version: no type checking at all) is called out on its own because no config level can raise it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/out}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

echo "== restoring the Bicep CLI"
dotnet restore "$here/tools/Bicep.csproj" --nologo --verbosity quiet
bicep="$(dotnet msbuild "$here/tools/Bicep.csproj" -nologo -getProperty:BicepPath)"
bicep="$(realpath "$bicep")"
"$bicep" --version

failed=0
# run NAME ARGS...: runs bicep, keeps its output in OUT_DIR/NAME.log, fails on exit code or any diagnostic.
run() {
  local name="$1"
  shift
  echo "== bicep $*"
  local rc=0
  "$bicep" "$@" >"$out/$name.log" 2>&1 || rc=$?
  cat "$out/$name.log"
  if [[ $rc -ne 0 ]]; then
    echo "FAIL: bicep $1 exited with $rc" >&2
    failed=1
  fi
  if grep -q 'Warning BCP081' "$out/$name.log"; then
    echo "FAIL: BCP081 - an API version the Bicep type library does not know; nothing was type-checked" >&2
    failed=1
  fi
  if grep -Eq '(Warning|Error) ' "$out/$name.log"; then
    echo "FAIL: bicep $1 reported diagnostics (warnings count as errors; see infra/bicepconfig.json)" >&2
    failed=1
  fi
}

run build build "$here/main.bicep" --outfile "$out/main.json"
run lint lint "$here/main.bicep"

# A parameter file with placeholder values (no real ids or secrets), as azd would pass after the
# first deploy (all apps exist).
rel="$(realpath --relative-to="$out" "$here/main.bicep")"
cat >"$out/sample.bicepparam" <<PARAMS
using '$rel'

param environmentName = 'sample'
param location = 'westeurope'
param metricsApiClientId = '00000000-0000-0000-0000-0000000000a1'
param dashboardClientId = '00000000-0000-0000-0000-0000000000d1'
param dashboardClientSecret = 'placeholder-not-a-secret'
param streamTicketSigningKey = 'placeholder-not-a-secret-0123456789abcdef'
param redisPassword = 'placeholderNotASecret0123456789abcdef'
param edgeProxyExists = true
param metricsApiExists = true
param dashboardWebExists = true
PARAMS
run snapshot snapshot "$out/sample.bicepparam" \
  --subscription-id 00000000-0000-0000-0000-000000000001 \
  --tenant-id 00000000-0000-0000-0000-000000000002 \
  --location westeurope --deployment-name sample

echo "== bicep format (check only)"
# Format copies (one process for all files) and compare them with the originals.
formatted="$out/format-check"
rm -rf "$formatted"
mkdir -p "$formatted"
(cd "$here" && find . -name '*.bicep' -not -path './out/*' -exec cp --parents {} "$formatted" \; && cp bicepconfig.json "$formatted")
(cd "$formatted" && "$bicep" format --pattern '**/*.bicep')
while IFS= read -r -d '' file; do
  if ! cmp -s "$file" "$here/${file#"$formatted"/}"; then
    echo "FAIL: ${file#"$formatted"/} is not as bicep format writes it; run: $bicep format infra/${file#"$formatted"/}" >&2
    failed=1
  fi
done < <(find "$formatted" -name '*.bicep' -print0)

if [[ $failed -ne 0 ]]; then
  echo "infra validation FAILED" >&2
  exit 1
fi
echo "infra validation passed: $out/main.json, $out/sample.snapshot.json"
