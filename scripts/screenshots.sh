#!/usr/bin/env bash
# Regenerates docs/screenshots/ with `meshwork --screenshot`, offscreen, in the light and the
# dark palette, from the plan files kept next to the pictures:
#   planner-*.png      LLaMA-2 70B over 8x8 H100 (tp 8, pp 4, dp 2), mesh coloured by PP stage
#   tp-groups-*.png    the same plan coloured by TP group
#   over-budget-*.png  LLaMA-2 13B, plain data parallel on 8 H100: every GPU past its 80 GiB
#   invalid-*.png      tp 16 over nodes of 8 and pp 3 for 80 layers: every reason listed, TP groups
#                      that cross nodes outlined
#   search-*.png       the search results for the 70B plan, Pareto front starred
# Usage: scripts/screenshots.sh [path/to/meshwork]   (default: build/bin/meshwork)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-build/bin/meshwork}
OUT=docs/screenshots
[ -x "$BIN" ] || { echo "screenshots.sh: $BIN is not built (ninja -C build meshwork)" >&2; exit 1; }
export QT_QPA_PLATFORM=offscreen
export QT_SCALE_FACTOR=1
for palette in light dark; do
  "$BIN" --open "$OUT/llama2-70b-8x8.meshwork.json" --palette "$palette" --color-axis pp \
         --screenshot "$OUT/planner-$palette.png"
  "$BIN" --open "$OUT/llama2-70b-8x8.meshwork.json" --palette "$palette" --color-axis tp \
         --screenshot "$OUT/tp-groups-$palette.png"
  "$BIN" --open "$OUT/over-budget.meshwork.json" --palette "$palette" --state memory \
         --screenshot "$OUT/over-budget-$palette.png"
  "$BIN" --open "$OUT/invalid-layout.meshwork.json" --palette "$palette" --color-axis tp \
         --screenshot "$OUT/invalid-$palette.png"
  "$BIN" --open "$OUT/llama2-70b-8x8.meshwork.json" --palette "$palette" --state search \
         --screenshot "$OUT/search-$palette.png"
done
