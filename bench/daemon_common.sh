# Sourced by bench/daemon.sh and bench/load.sh (after BUILD and STEPS are set; SERVE_FLAGS adds `ttsd
# serve` flags): a scratch folder, a job
# config, and a daemon on that folder that is stopped on exit.
#   $TMP/job.yaml: quickstart's model and data, STEPS steps, a progress event every step, no
#   validation or checkpoints until the end.
TTSD=$BUILD/server/ttsd
TTSCTL=$BUILD/client/ttsctl
CORPUS=$PWD/corpus/slt
[ -f "$CORPUS/metadata.csv" ] || { echo "no corpus: run make corpus first" >&2; exit 2; }
TMP=$(mktemp -d)
DAEMON=""
trap '[ -n "$DAEMON" ] && { kill -TERM "$DAEMON" 2>/dev/null; wait "$DAEMON" 2>/dev/null; }; rm -rf "$TMP"' EXIT

sed -e "s|path: ../corpus/slt|path: $CORPUS|" -e "s|max_steps: .*|max_steps: $STEPS|" \
    -e "s|log_interval: .*|log_interval: 1|" -e "s|^output_dir: .*|output_dir: $TMP/unused|" \
    -e "/^validation:/,/^[a-z]/ s|interval_steps: .*|interval_steps: 100000|" \
    -e "/^checkpoint:/,/^[a-z]/ s|interval_steps: .*|interval_steps: 100000|" examples/quickstart.yaml > "$TMP/job.yaml"

"$TTSD" serve --data-dir "$TMP/dd" --allowed-roots "$TMP,$PWD" ${SERVE_FLAGS:-} > "$TMP/serve.log" 2>&1 &
DAEMON=$!
export TTSD_ADDR="unix://$TMP/dd/ttsd.sock"
for _ in $(seq 1 100); do "$TTSCTL" ping --timeout 1 > /dev/null 2>&1 && break; sleep 0.2; done
