/* The .tflite compiled into an MLPerf Tiny protocol image (eembc.mk copies MODEL to
 * model.tflite in the image's folder and assembles this with -Wa,-I<that folder>), and the
 * model id and formats the image announces and uses (ee_api.h: EE_IN_*, EE_RES_*). */
  .section .rodata.ee_model, "a"
  .balign 16
  .global ee_blob_model
ee_blob_model:
  .incbin "model.tflite"
  .global ee_blob_model_end
ee_blob_model_end:
  .global ee_blob_id
ee_blob_id:
  .asciz EE_MODEL_NAME
  .global ee_blob_input
ee_blob_input:
  .byte EE_INPUT
  .global ee_blob_results
ee_blob_results:
  .byte EE_RESULTS
