/* Tensor lifetimes and arena offsets. Greedy by size (largest first), each tensor
 * at the lowest offset that does not collide with an already placed tensor whose
 * lifetime overlaps; the same idea as TFLM's greedy planner, our own code. */
#include "model.h"

#include "errfmt.h"

#define ALIGN_UP(x) (((x) + HB_ARENA_ALIGN - 1u) & ~(size_t)(HB_ARENA_ALIGN - 1u))

static int is_graph_input(const hb_engine_t *e, int ti) {
  for (int i = 0; i < e->num_inputs; i++)
    if (e->inputs[i] == ti) return 1;
  return 0;
}

static int mark_reads(hb_engine_t *e, int oi, hb_error_t *err) {
  const hb_op_t *op = &e->ops[oi];
  for (int i = 0; i < op->nin; i++) {
    if (op->in[i] < 0) continue;
    hb_tensor_t *t = &e->tensors[op->in[i]];
    if (t->is_const) continue;
    if (t->first < 0)
      return hb_fail(err, HB_E_CORRUPT, "corrupt model: node %d reads tensor %d before it is written", oi, op->in[i]);
    if (t->last < oi) t->last = (int16_t)oi;
  }
  return HB_OK;
}

int hb_plan_lifetimes(hb_engine_t *e, hb_error_t *err) {
  for (int i = 0; i < e->num_inputs; i++) {
    hb_tensor_t *t = &e->tensors[e->inputs[i]];
    if (t->is_const) return hb_fail(err, HB_E_CORRUPT, "corrupt model: graph input %d is a constant", i);
    t->first = 0;
    if (t->last < 0) t->last = 0;
  }
  for (int oi = 0; oi < e->num_ops; oi++) {
    if (mark_reads(e, oi, err)) return err->code;
    hb_tensor_t *t = &e->tensors[e->ops[oi].out];
    if (t->is_const) return hb_fail(err, HB_E_CORRUPT, "corrupt model: node %d writes constant tensor %d", oi, e->ops[oi].out);
    if (t->first >= 0 || is_graph_input(e, e->ops[oi].out))
      return hb_fail(err, HB_E_CORRUPT, "corrupt model: tensor %d written twice (node %d)", e->ops[oi].out, oi);
    t->first = (int16_t)oi;
    t->last = (int16_t)oi;
  }
  for (int i = 0; i < e->num_outputs; i++) {
    hb_tensor_t *t = &e->tensors[e->outputs[i]];
    if (t->is_const) continue;
    if (t->first < 0) return hb_fail(err, HB_E_CORRUPT, "corrupt model: graph output %d is never written", i);
    t->last = (int16_t)e->num_ops;
  }
  if (e->preserve_all) {
    for (int i = 0; i < e->num_tensors; i++) {
      hb_tensor_t *t = &e->tensors[i];
      if (t->first >= 0) { t->first = 0; t->last = (int16_t)e->num_ops; }
    }
  }
  return HB_OK;
}

static int overlap_time(const hb_tensor_t *a, const hb_tensor_t *b) {
  return a->first <= b->last && b->first <= a->last;
}

/* Lowest offset for `t` among the placed tensors that live at the same time. */
static size_t lowest_gap(const hb_engine_t *e, const hb_tensor_t *t, const int16_t *placed, int np) {
  int16_t live[HB_MAX_TENSORS];
  int n = 0;
  for (int i = 0; i < np; i++) {
    const hb_tensor_t *o = &e->tensors[placed[i]];
    if (!overlap_time(t, o)) continue;
    int j = n++;  /* insertion sort by offset */
    while (j > 0 && e->tensors[live[j - 1]].offset > o->offset) { live[j] = live[j - 1]; j--; }
    live[j] = placed[i];
  }
  size_t cand = 0, need = ALIGN_UP((size_t)t->bytes);
  for (int i = 0; i < n; i++) {
    const hb_tensor_t *o = &e->tensors[live[i]];
    if (cand + need <= o->offset) break;
    size_t end = o->offset + ALIGN_UP((size_t)o->bytes);
    if (end > cand) cand = end;
  }
  return cand;
}

/* Readable after invoke unless a tensor born after its last use shares its bytes. */
static void mark_readable(hb_engine_t *e) {
  for (int i = 0; i < e->num_tensors; i++) {
    hb_tensor_t *t = &e->tensors[i];
    t->readable = t->is_const;
    if (t->first < 0) continue;
    t->readable = 1;
    for (int j = 0; j < e->num_tensors && t->readable; j++) {
      const hb_tensor_t *o = &e->tensors[j];
      if (j == i || o->first < 0 || o->first <= t->last) continue;
      if (o->offset < t->offset + t->bytes && t->offset < o->offset + o->bytes) t->readable = 0;
    }
  }
}

void hb_plan_offsets(hb_engine_t *e) {
  int16_t order[HB_MAX_TENSORS];
  int n = 0;
  for (int i = 0; i < e->num_tensors; i++) {
    const hb_tensor_t *t = &e->tensors[i];
    if (t->first < 0) continue;
    int j = n++;  /* largest first; ties by earlier birth */
    while (j > 0) {
      const hb_tensor_t *p = &e->tensors[order[j - 1]];
      if (p->bytes > t->bytes || (p->bytes == t->bytes && p->first <= t->first)) break;
      order[j] = order[j - 1];
      j--;
    }
    order[j] = (int16_t)i;
  }
  e->plan_bytes = 0;
  for (int k = 0; k < n; k++) {
    hb_tensor_t *t = &e->tensors[order[k]];
    t->offset = (uint32_t)lowest_gap(e, t, order, k);
    size_t end = t->offset + ALIGN_UP((size_t)t->bytes);
    if (end > e->plan_bytes) e->plan_bytes = end;
  }
  mark_readable(e);
}
