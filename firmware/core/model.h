/* Model reader (model.c) and memory planner (planner.c), used by hb_engine_load. */
#ifndef HB_MODEL_H
#define HB_MODEL_H
#include "engine.h"

/* Fills e->tensors / e->ops / graph IO from e->model; every field bounds-checked. */
int hb_model_read(hb_engine_t *e, hb_error_t *err);
/* Computes each arena tensor's first/last use and checks the graph's order. */
int hb_plan_lifetimes(hb_engine_t *e, hb_error_t *err);
/* Greedy offsets by size; sets e->plan_bytes, tensor offsets and readability. */
void hb_plan_offsets(hb_engine_t *e);

#endif
