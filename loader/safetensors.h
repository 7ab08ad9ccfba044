/* Reading a safetensors container without trusting it: every length, offset, dtype and shape
 * is checked before use. The file is mapped read-only; nothing is copied. */
#ifndef MVK_SAFETENSORS_H
#define MVK_SAFETENSORS_H

#include <cjson/cJSON.h>

#include "internal.h"

enum { MVK_DT_F32 = 0, MVK_DT_F16, MVK_DT_BF16, MVK_DT_F64, MVK_DT_I64, MVK_DT_I32, MVK_DT_I16,
       MVK_DT_I8, MVK_DT_U8, MVK_DT_BOOL, MVK_DT_COUNT };

typedef struct mvk_st_tensor {
    char *name;
    int dtype;
    int ndim;
    int64_t shape[8];
    uint64_t begin, end; /* byte range relative to the data section */
} mvk_st_tensor;

typedef struct mvk_st_file {
    const uint8_t *bytes;  /* the whole file */
    size_t size;
    bool mapped;           /* bytes come from mmap (mvk_st_close unmaps) */
    const uint8_t *data;   /* the data section */
    uint64_t data_size;
    mvk_st_tensor *tensors;
    int ntensors;
    cJSON *root;           /* the header JSON */
    const cJSON *metadata; /* "__metadata__" or NULL */
} mvk_st_file;

/* Parses and validates a container held in memory (the caller keeps it alive). */
mvk_status mvk_st_parse(mvk_ctx *ctx, const uint8_t *bytes, size_t size, mvk_st_file *out);
/* Maps a file read-only and parses it. */
mvk_status mvk_st_open(mvk_ctx *ctx, const char *path, mvk_st_file *out);
void mvk_st_close(mvk_st_file *f);

const mvk_st_tensor *mvk_st_find(const mvk_st_file *f, const char *name);
const char *mvk_st_dtype_str(int dtype);
/* A string value of __metadata__, or NULL. */
const char *mvk_st_meta(const mvk_st_file *f, const char *key);

/* cJSON allocates through the engine's counted allocator (fault injection reaches it). */
void mvk_json_init(void);

#endif
