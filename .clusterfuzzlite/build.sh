#!/bin/bash -eu
# Builds every cargo-fuzz target for ClusterFuzzLite / OSS-Fuzz, with seeds and dictionaries.
cd $SRC/wsman-harness/fuzz
cargo fuzz build -O
for t in envelope envelope_parse envelope_model xml_lexer ntlm_message spnego_token auth_header encrypted_body xs_duration config_values scenario_file; do
  cp target/x86_64-unknown-linux-gnu/release/$t $OUT/
  # envelope_parse and xml_lexer share the envelope seeds and dictionary.
  case $t in envelope_parse | xml_lexer) s=envelope ;; *) s=$t ;; esac
  seeds=../corpus/$s
  if [ -d $seeds ]; then
    (cd $seeds && zip -q -r $OUT/${t}_seed_corpus.zip .)
  fi
  [ -f "$s.dict" ] && cp "$s.dict" "$OUT/$t.dict"
done
