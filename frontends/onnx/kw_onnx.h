/* kw_onnx.h -- the ONNX frontend: model bytes to a KwGraph. Nothing downstream sees
 * protobuf: the message is decoded into arena memory and dropped. */
#ifndef KW_ONNX_H
#define KW_ONNX_H

#include "kwcc_int.h"

/* Builds g from an ONNX ModelProto. Returns 0, or -1 after reporting every problem found
 * (through g->diag). */
int kw_onnx_load(KwGraph *g, const void *buf, size_t len);

#endif
