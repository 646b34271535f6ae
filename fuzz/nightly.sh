#!/usr/bin/env bash
# Runs every fuzz target for FUZZ_SECONDS each (default 600) on a scratch copy of its corpus,
# the same way the nightly workflow does; new corpus entries go to fuzz/corpus-out/<target>,
# crashes to fuzz/artifacts/<target>. Exit status is non-zero if any target crashed.
set -uo pipefail
cd "$(dirname "$0")"
secs="${FUZZ_SECONDS:-600}"
targets=(envelope envelope_parse envelope_model xml_lexer ntlm_message spnego_token auth_header encrypted_body xs_duration config_values scenario_file)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
status=0
for t in "${targets[@]}"; do
  out="corpus-out/$t"
  mkdir -p "$out" "artifacts/$t"
  # envelope_parse and xml_lexer share the envelope seeds and dictionary.
  case $t in envelope_parse | xml_lexer) seeds=envelope ;; *) seeds=$t ;; esac
  cp -n ../corpus/"$seeds"/* "$out"/ 2>/dev/null || true
  dict=()
  [ -f "$seeds.dict" ] && dict=(-dict="$seeds.dict")
  echo "== $t (${secs}s)"
  if ! cargo fuzz run -s none "$t" "$out" -- -max_total_time="$secs" "${dict[@]}" \
      -artifact_prefix="artifacts/$t/" -print_final_stats=1; then
    echo "!! $t found a crash: see fuzz/artifacts/$t" >&2
    status=1
  fi
done
exit $status
