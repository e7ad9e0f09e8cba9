# shellcheck shell=bash
# Helpers shared by up.sh and down.sh (sourced, not run): progress with timings, background
# processes tracked by pid file, bounded waits that name the part and its log when they fail.
# Expects STATE, LOGS, RUN and PODMAN (the podman command, an array) to be set by the caller.

now() { date +%s.%N; }

elapsed() { # start -> seconds since, one decimal
    awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'
}

die() { # part message
    echo "prodlike: $1 FAILED: $2" >&2
    exit 1
}

_step_name=""
_step_start=""
step() { # name: start timing a part
    _step_name="$1"
    _step_start="$(now)"
    echo "prodlike: $1 ..."
}

done_step() { # [detail]: the part is ready
    echo "prodlike: $_step_name ready in $(elapsed "$_step_start") s${1:+ ($1)}"
}

alive() { # name: the process started by start_bg is running
    local pidfile="$RUN/$1.pid"
    [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

start_bg() { # name log command...: start a detached process group, remember its pid
    local name="$1" log="$2"
    shift 2
    # setsid: the process leads its own group, so down.sh stops it with its children.
    setsid "$@" >"$log" 2>&1 </dev/null &
    echo $! >"$RUN/$name.pid"
}

stop_bg() { # name: stop a process group started by start_bg (TERM, then KILL after 20 s)
    local pidfile="$RUN/$1.pid" pid
    [[ -f "$pidfile" ]] || return 0
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

part_running() { # name: its process (pid file) or container (podman) has not exited
    if [[ -f "$RUN/$1.pid" ]]; then
        alive "$1"
    elif "${PODMAN[@]}" container exists "$1" 2>/dev/null; then
        [[ "$("${PODMAN[@]}" container inspect --format '{{.State.Running}}' "$1")" == true ]]
    else
        return 0
    fi
}

http_up() { # url: anything answers HTTP there (any status)
    local code
    code="$(curl -s -o /dev/null -m 3 -w '%{http_code}' "$1" 2>/dev/null || true)"
    [[ -n "$code" && "$code" != 000 ]]
}

wait_until() { # part seconds log command...: retry the command until it succeeds or time is up
    local part="$1" seconds="$2" log="$3"
    shift 3
    local deadline=$(($(date +%s) + seconds))
    until "$@" >/dev/null 2>&1; do
        if (($(date +%s) >= deadline)); then
            echo "prodlike: --- last lines of $log ---" >&2
            tail -n 20 "$log" >&2 2>/dev/null || true
            die "$part" "not ready after ${seconds} s; see $log"
        fi
        if part_running "$part"; then
            sleep 1
        else
            echo "prodlike: --- last lines of $log ---" >&2
            tail -n 20 "$log" >&2 2>/dev/null || true
            die "$part" "the process exited; see $log"
        fi
    done
}
