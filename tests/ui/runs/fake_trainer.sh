#!/bin/sh
# A stand-in for meshwork-train that does on purpose what a real trainer only does by
# accident. FAKE_TRAINER_MODE:
#   midline    a few steps, then half an event line, then SIGKILL on itself
#   malformed  steps with garbage lines between them, then a clean end
#   crash      an error event (out of memory), then exit 1
events=/dev/null
while [ $# -gt 0 ]; do
  case "$1" in
    --events) events="$2"; shift ;;
  esac
  shift
done
emit() { printf '%s\n' "$1"; printf '%s\n' "$1" >> "$events"; }
step() { emit "{\"v\":1,\"event\":\"step\",\"t\":$1,\"step\":$1,\"loss\":$2,\"lr\":0.001,\"grad_norm\":1.5,\"tokens\":$(( $1 * 512 )),\"tokens_per_s\":5000,\"tflops\":0.01,\"mfu\":0.001,\"step_ms\":100,\"mem_peak_gib\":0.2}"; }
emit '{"v":1,"event":"run_start","t":0,"run_id":"fake","plan":{"model":"gpt-nano","dp":1},"world_size":1,"trainer":"fake-1"}'
case "$FAKE_TRAINER_MODE" in
  midline)
    step 1 5.0; step 2 4.5; step 3 4.2
    printf '{"v":1,"event":"step","t":4,"step":4,"lo'
    kill -9 $$ ;;
  malformed)
    step 1 5.0
    emit 'this is not json'
    step 2 4.5
    emit '{"v":1,"event":"step","t":3,"step":3,'
    emit '[1,2,3]'
    step 3 4.1
    emit '{"v":1,"event":"run_end","t":4,"status":"completed","steps":3,"wall_s":4}' ;;
  crash)
    step 1 5.0
    emit '{"v":1,"event":"error","t":1.5,"kind":"oom","message":"tried to allocate 12.00 GiB on cpu"}'
    exit 1 ;;
esac
