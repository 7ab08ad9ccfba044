/* Helpers shared by the subcommands: context and model opening with messages, option parsing,
 * a progress bar on terminals, timing. */
#ifndef MVK_APP_UTIL_H
#define MVK_APP_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "mimovk.h"

/* Creates the context (device from MIMOVK_DEVICE); prints why on failure. */
mvk_ctx *app_ctx(const char *cmd);
/* Loads a model; prints the status and message on failure. */
mvk_model *app_model(const char *cmd, mvk_ctx *ctx, const char *path);
/* Parses "1,2,4" into ns; "all" or NULL gives every valid n of the model. Returns the count or -1. */
int app_parse_n(const char *cmd, const char *arg, const mvk_model_info *info, int *ns, int max);
/* Parses a positive integer option value; exits the command with usage error on failure. */
bool app_int(const char *cmd, const char *opt, const char *val, long lo, long hi, long *out);
double app_now(void);
/* A progress bar on stderr when it is a terminal; done == total ends it. */
void app_progress(const char *label, uint64_t done, uint64_t total);
/* Prints "cmd: what: status: message" to stderr. */
void app_error(const char *cmd, const char *what, mvk_status s, mvk_ctx *ctx);
/* JSON-escapes s into a static buffer (for names and labels). */
const char *app_json_str(const char *s);

#endif
