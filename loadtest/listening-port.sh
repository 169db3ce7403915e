# Sourced by the loadtest scripts (run from the repository root).
#
# wait_for_port LOG: waits (at most 10 s) until the presenced writing LOG says it listens
# ("... ports=N ..."), and sets PORT to N. Prints the log and returns 1 if it never does.
wait_for_port() {
    PORT=""
    for _ in $(seq 100); do
        PORT=$(sed -n 's/.*ports=\([0-9]*\).*/\1/p' "$1" 2>/dev/null | head -1)
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    echo "presenced did not start listening ($1):"; cat "$1"
    return 1
}
