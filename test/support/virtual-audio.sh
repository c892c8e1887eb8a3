#!/usr/bin/env bash
# hydra-chat's virtual sound card for its end-to-end audio tests (test/audio-*.test.ts).
#
# Real PortAudio streams, paced in real time, with no sound card: a private PulseAudio daemon provides
# clocked null sinks, and the ALSA "pulse" plugin (libasound2-plugins, installed by .ci/run) exposes them
# as ALSA PCMs that naudiodon/PortAudio lists. Nothing outside AUDIO_DIR is written (no ~/.asoundrc,
# no ~/.config/pulse). Each test file uses its own AUDIO_DIR, so files can run in parallel.
# Adapted from ../shared/virtual-audio.sh (see ../shared/audio-testing.md for the measurements).
#
#   virtual-audio.sh start     start (or reuse) the daemon for AUDIO_DIR; prints KEY=VALUE env lines
#   virtual-audio.sh status    exit 0 if the daemon for AUDIO_DIR is up and answering
#   virtual-audio.sh stop      stop the daemon and keepers of AUDIO_DIR, then delete AUDIO_DIR
#
# Devices (ALSA PCM -> PulseAudio object):
#   vmic    -> source "mic"   16 kHz mono s16 (= monitor of sink "micfeed")
#   vspk    -> sink   "spk"   48 kHz mono s16
#   vspkmon -> source "spk.monitor" (what the speaker played)
#   default -> spk / mic      (REQUIRED: PortAudio 19.6 aborts the process if pcm.default is missing)
# Feed the mic:    paplay -d micfeed speech16k.wav
# Capture speaker: parec -d spk.monitor --latency-msec=10 --raw --rate=48000 --channels=1 --format=s16le
set -euo pipefail

cmd="${1:-start}"
AUDIO_DIR="${AUDIO_DIR:-/tmp/hydra-va-$(id -u)}"
case "$AUDIO_DIR" in /*) ;; *) AUDIO_DIR="$PWD/$AUDIO_DIR" ;; esac
AUDIO_DIR="${AUDIO_DIR%/}"
case "$AUDIO_DIR" in *[[:space:]\"\'\\]*) echo "virtual-audio: AUDIO_DIR must not contain spaces or quotes" >&2; exit 2 ;; esac
[ "${#AUDIO_DIR}" -le 90 ] || { echo "virtual-audio: AUDIO_DIR too long for a unix socket path" >&2; exit 2; }
SOCK="$AUDIO_DIR/native"

log() { echo "virtual-audio: $*" >&2; }

print_env() {
  echo "AUDIO_DIR=$AUDIO_DIR"
  echo "ALSA_CONFIG_PATH=$AUDIO_DIR/asound.conf"
  echo "PULSE_SERVER=unix:$SOCK"
  echo "PULSE_COOKIE=$AUDIO_DIR/cookie"
  echo "PULSE_CLIENTCONFIG=$AUDIO_DIR/client.conf"
}

# Client environment for our own pactl/parec calls (also keeps libpulse from touching $HOME).
client_env() {
  export PULSE_SERVER="unix:$SOCK" PULSE_COOKIE="$AUDIO_DIR/cookie" PULSE_CLIENTCONFIG="$AUDIO_DIR/client.conf"
}

# pid from a pid file, only if that process is still ours (cmdline mentions AUDIO_DIR): no stale-pid kills.
live_pid() {
  local f="$AUDIO_DIR/$1.pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$AUDIO_DIR/" || return 1
  echo "$pid"
}

healthy() {
  live_pid pulseaudio >/dev/null && live_pid keeper-mic >/dev/null && live_pid keeper-spk >/dev/null || return 1
  ( client_env; timeout 2 pactl info >/dev/null 2>&1 )
}

kill_one() {
  local name="$1" pid
  if pid="$(live_pid "$name")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do [ -d "/proc/$pid" ] || break; sleep 0.05; done
    [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$AUDIO_DIR/$name.pid"
}

stop_all() {
  kill_one keeper-mic; kill_one keeper-spk; kill_one pulseaudio
  rm -f "$SOCK"
}

# Start a detached process and record the pid it really runs under (setsid may fork; exec keeps the pid).
spawn() {
  local name="$1"; shift
  setsid sh -c 'echo $$ > "$0"; exec "$@"' "$AUDIO_DIR/$name.pid" "$@" </dev/null >>"$AUDIO_DIR/$name.log" 2>&1 &
  for _ in $(seq 1 40); do [ -s "$AUDIO_DIR/$name.pid" ] && return 0; sleep 0.025; done
  log "could not start $name"; return 1
}

# Readiness: a source must deliver 50 ms of audio within 300 ms (an idle null sink renders in 2 s blocks).
probe_source() {
  local src="$1" t0 dt
  for _ in $(seq 1 30); do
    t0=$(date +%s%N)
    timeout 3 sh -c "parec -d '$src' --latency-msec=10 --raw --format=s16le --channels=1 --rate=16000 | head -c 1600 >/dev/null" 2>/dev/null || true
    dt=$(( ($(date +%s%N) - t0) / 1000000 ))
    [ "$dt" -lt 300 ] && return 0
  done
  return 1
}

start() {
  if healthy; then print_env; return 0; fi
  [ -d "$AUDIO_DIR" ] && [ ! -f "$AUDIO_DIR/.virtual-audio" ] && [ -n "$(ls -A "$AUDIO_DIR")" ] && {
    log "$AUDIO_DIR exists and is not ours; refusing to use it"; exit 1; }
  command -v pulseaudio >/dev/null && command -v pactl >/dev/null && command -v parec >/dev/null || {
    log "pulseaudio/pulseaudio-utils missing (apt-get install pulseaudio pulseaudio-utils libasound2-plugins)"; exit 1; }
  [ -n "$(find /usr/lib /usr/lib64 -name 'libasound_module_pcm_pulse.so' 2>/dev/null | head -1)" ] || {
    log "ALSA pulse plugin missing (apt-get install libasound2-plugins)"; exit 1; }
  stop_all
  mkdir -p "$AUDIO_DIR/run" "$AUDIO_DIR/state" "$AUDIO_DIR/home/.config"
  chmod 700 "$AUDIO_DIR/run"
  touch "$AUDIO_DIR/.virtual-audio"
  [ -s "$AUDIO_DIR/cookie" ] || head -c 256 /dev/urandom >"$AUDIO_DIR/cookie"
  printf 'autospawn = no\n' >"$AUDIO_DIR/client.conf"
  cat >"$AUDIO_DIR/graph.pa" <<EOF
load-module module-native-protocol-unix socket=$SOCK auth-anonymous=1 auth-cookie-enabled=0
load-module module-null-sink sink_name=spk rate=48000 channels=1 format=s16le sink_properties=device.description=VirtualSpeaker
load-module module-null-sink sink_name=micfeed rate=16000 channels=1 format=s16le sink_properties=device.description=MicFeed
load-module module-remap-source source_name=mic master=micfeed.monitor channels=1 channel_map=mono master_channel_map=mono source_properties=device.description=VirtualMic
set-default-sink spk
set-default-source mic
EOF
  # Minimal top-level ALSA config: replaces the stock alsa.conf for processes given ALSA_CONFIG_PATH.
  # 4 devices plus default, enumerated in ~10 ms, and no alsa-lib/JACK noise on stderr.
  cat >"$AUDIO_DIR/asound.conf" <<EOF
pcm.vmic    { type pulse server "unix:$SOCK" device "mic" }
pcm.vspk    { type pulse server "unix:$SOCK" device "spk" }
pcm.vspkmon { type pulse server "unix:$SOCK" device "spk.monitor" }
pcm.default { type pulse server "unix:$SOCK" }
ctl.default { type pulse server "unix:$SOCK" }
EOF
  # The daemon gets a private HOME/runtime/state so it never touches the real user's files.
  spawn pulseaudio env HOME="$AUDIO_DIR/home" XDG_CONFIG_HOME="$AUDIO_DIR/home/.config" \
    XDG_RUNTIME_DIR="$AUDIO_DIR/run" PULSE_RUNTIME_PATH="$AUDIO_DIR/run" PULSE_STATE_PATH="$AUDIO_DIR/state" \
    DBUS_SESSION_BUS_ADDRESS="unix:path=$AUDIO_DIR/no-dbus" \
    pulseaudio -n --daemonize=no --system=no --exit-idle-time=-1 --use-pid-file=no --disallow-exit \
    --disallow-module-loading=no --disable-shm=yes --realtime=no --high-priority=no -F "$AUDIO_DIR/graph.pa"
  client_env
  local up=""
  for _ in $(seq 1 100); do
    if timeout 2 pactl info >/dev/null 2>&1; then up=1; break; fi
    live_pid pulseaudio >/dev/null || break
    sleep 0.05
  done
  [ -n "$up" ] || { log "pulseaudio did not start; see $AUDIO_DIR/pulseaudio.log"; stop_all; exit 1; }
  # Keepers: a silent low-latency stream on each sink keeps it rendering in small blocks
  # (otherwise first mic data comes 0.8-2 s late). Costs ~2 % of a core.
  spawn keeper-mic pacat -p --server="unix:$SOCK" --latency-msec=40 -d micfeed --raw --rate=16000 \
    --channels=1 --format=s16le --client-name=virtual-audio-keeper /dev/zero
  spawn keeper-spk pacat -p --server="unix:$SOCK" --latency-msec=40 -d spk --raw --rate=48000 \
    --channels=1 --format=s16le --client-name=virtual-audio-keeper /dev/zero
  for src in mic spk.monitor; do
    probe_source "$src" || { log "source $src is not delivering audio in real time; see $AUDIO_DIR/*.log"; stop_all; exit 1; }
  done
  print_env
}

case "$cmd" in
start) start ;;
status) if healthy; then echo "virtual-audio: up ($AUDIO_DIR)"; else echo "virtual-audio: down ($AUDIO_DIR)"; exit 1; fi ;;
stop)
  stop_all
  if [ -f "$AUDIO_DIR/.virtual-audio" ]; then rm -rf "$AUDIO_DIR"; fi ;;
*) echo "usage: $0 start|status|stop   (AUDIO_DIR=${AUDIO_DIR})" >&2; exit 2 ;;
esac
