#!/bin/bash
# Shows that the QEMU proofs reach every asm block of the DSP kernels (qemu-m4) and of the Helium
# kernels (qemu-m55): for each asm file, one instruction is changed in a copy of the committed
# firmware, batch.elf is built from it for the file's board, and the proof's make-test subset
# (tests/firmware/qemu_batch.py) must report failing cases. Prints one line per mutation; exits 1
# if a mutation went unnoticed. ~1 min each.
# ONLY='file.c …' limits it to those files. Mutant failures are saved under the temp dir, not tests/firmware/regressions.
# A key file.c:what names one more mutation of file.c (a file whose asm has several parts).
set -u
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
declare -A MUT=(
  [fully_connected.c]='s/"smlad %\[" #a "\], %\[v\], %\[xb\], %\[" #a "\]\\n\\t"/"smlad %[" #a "], %[v], %[xa], %[" #a "]\\n\\t"/'
  [conv_rows_dsp.c]='s/"smlad r0, r9, r5, r0\\n\\t"/"smlad r0, r9, r4, r0\\n\\t"/'
  [conv_wide_dsp.c]='0,/sxtb16 r6, r9\\n\\tsxtb16 r7, r9, ror #8/s//sxtb16 r6, r8\\n\\tsxtb16 r7, r9, ror #8/'
  [conv_win_dsp.c]='0,/sxtab16 r5, %\[o\], r8, ror #8/s//sxtab16 r5, %[o], r8/'
  [fc_mve.c]='s/DOT_W("r2", "r5") DOT_W("r4", "r7")/DOT_W("r2", "r7") DOT_W("r4", "r7")/'
  [conv_dsp.c]='0,/"sxtb16 %\[v\], %\[v\], ror #8\\n\\t"/s//"sxtb16 %[v], %[v], ror #16\\n\\t"/'
  [dwconv_dsp.c]='s/"smlatt %\[a3\], %\[x1\], %\[w1\], %\[a3\]\\n\\t"/"smlatb %[a3], %[x1], %[w1], %[a3]\\n\\t"/'
  [dwconv3x3_rows_dsp.c]='s/"usat r7, #8, r7, asr #" r "\\n\\tusat r8/"usat r7, #7, r7, asr #" r "\\n\\tusat r8/'
  [elementwise_dsp.c]='s/"ldr r12, \[r7, r12, lsl #2\]\\n\\t"/"ldr r12, [r6, r12, lsl #2]\\n\\t"/'
  [fc_pairs_dsp.c]='s/"smlad " a ", r10, r4, " a "\\n\\tsmlad " a ", r9, r5, " a "\\n\\t"/"smlad " a ", r10, r5, " a "\\n\\tsmlad " a ", r9, r5, " a "\\n\\t"/'
  [dwconv3x3_direct_dsp.c]='0,/"smlad r3, r0, r4, r3\\n\\tsmlabt r3, r1, r5, r3\\n\\t"/s//"smlad r3, r0, r5, r3\\n\\tsmlabt r3, r1, r5, r3\\n\\t"/'
  [dwconv3x3_fill_dsp.c]='s/sxtab16 r9, lr, r11\\n/sxtab16 r9, lr, r10\\n/'
  [dwconv3x3_narrow_dsp.c]='s/"ldr r0, \[sp, #28\]\\n\\tadd r12, r12, r0/"ldr r0, [sp, #24]\\n\\tadd r12, r12, r0/'
  [dwconv3x3_sets_dsp.c]='s/"lsl r0, r0, #1\\n\\tpkhbt r0, r0, r1, lsl #17/"lsl r0, r0, #1\\n\\tpkhbt r0, r0, r1, lsl #16/'
  [conv_mve.c]='s/MAC_W("r4", "r12") MAC_W("r6", "lr")/MAC_W("r4", "r12") MAC_W("r6", "r6")/'
  [dwconv_mve.c]='s/DW_TAP("r2", "16", "128")/DW_TAP("r2", "8", "128")/'
  [dwconv3x3_small_dsp.c]='s/smlatt r3, r5, r7, r3/smlatb r3, r5, r7, r3/'
  [dwconv3x3_small_dsp.c:variant]='s/D6_VAR("5", D6_M2 D6_C2(2))/D6_VAR("5", D6_M2 D6_C1(2))/'
  [dwconv3x3_small_dsp.c:requant]='s/tssat " a ", #8, " a "/tssat " a ", #7, " a "/'
  [dwconv3x3_small_dsp.c:trampoline]='s/b .Ld6v" v "k2/b .Ld6v" v "k3/'
  [dwconv3x3_small_dsp.c:widen]='s/sxtab16 r5, r8, r2, ror #8/sxtab16 r5, r8, r2/'
  [dwconv3x3_small_dsp.c:streams]='s/strd r0, r4, \[lr, #(" o " + 8)\]/strd r4, r0, [lr, #(" o " + 8)]/'
  [dwconv3x3_small_dsp.c:weights]='s/strd r4, r5, \[lr, #144\]/strd r4, r4, [lr, #144]/'
)
# The Helium files run on qemu-m55 (mps3-an547, KERNELS=mve); the rest on qemu-m4.
declare -A BOARD=([conv_mve.c]=mps3-an547 [dwconv_mve.c]=mps3-an547 [fc_mve.c]=mps3-an547)
missed=0
for key in "${!MUT[@]}"; do
  f=${key%%:*}  # the file; key: the file, or file:what for another of its mutations
  [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $f "* ]] && continue  # ONLY="a.c b.c": just these files
  rm -rf "$TMP/fw" && mkdir -p "$TMP/fw" && git archive HEAD firmware | tar -x -C "$TMP/fw"
  sed -i "${MUT[$key]}" "$TMP/fw/firmware/core/kernels/$f"
  if cmp -s "firmware/core/kernels/$f" "$TMP/fw/firmware/core/kernels/$f"; then echo "$key: mutation did not apply"; missed=1; continue; fi
  board=${BOARD[$f]:-mps2-an386}
  kernels=$([ "$board" = mps3-an547 ] && echo mve || echo dsp)
  make -s -C "$TMP/fw/firmware" BOARD="$board" KERNELS="$kernels" BOARD_DIR=build/m batch >/dev/null 2>&1 || { echo "$key: build failed"; missed=1; continue; }
  out=$(HB_PROOF_REGRESSIONS="$TMP/regs" "$PY" -m tests.firmware.qemu_batch --elf "$TMP/fw/firmware/build/m/batch.elf" --machine "$board" 2>&1)
  if [ $? -eq 1 ] && grep -q '^  FAIL' <<<"$out"; then  # exit 1 with failing cases, not any error
    echo "$key: caught, $(grep -c '^  FAIL' <<<"$out") failing cases of $(grep -o '^[0-9]* cases' <<<"$out")"
  else
    echo "$key: NOT caught"; missed=1
  fi
done
exit $missed
