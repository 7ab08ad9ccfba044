/* mimovk info MODEL: what a model file holds and what each n costs. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "util_app.h"

int cmd_info(int argc, char **argv) {
    if (argc != 2 || !strcmp(argv[1], "--help")) {
        fprintf(argc == 2 ? stdout : stderr, "usage: mimovk info MODEL\n");
        return argc == 2 ? 0 : 2;
    }
    mvk_ctx *ctx = app_ctx("info");
    if (!ctx) return 1;
    mvk_model *m = app_model("info", ctx, argv[1]);
    if (!m) {
        mvk_ctx_destroy(ctx);
        return 1;
    }
    const mvk_model_info *i = mvk_model_get_info(m);
    printf("model:        %s\n", i->name);
    printf("family:       %s\n", i->family);
    if (i->description[0]) printf("architecture: %s\n", i->description);
    if (i->config_json[0]) printf("config:       %s\n", i->config_json);
    printf("parameters:   %llu\n", (unsigned long long)i->parameters);
    printf("capacity:     %d (valid n:", i->capacity);
    for (int k = 0; k < i->n_valid; k++) printf(" %d", i->valid_n[k]);
    printf(")\n");
    printf("input:        %d x %d x %d (C x H x W), mean", i->channels, i->height, i->width);
    for (int c = 0; c < i->channels; c++) printf(" %.4f", i->mean[c]);
    printf(", std");
    for (int c = 0; c < i->channels; c++) printf(" %.4f", i->std[c]);
    printf(", %s\n", i->light_on_dark ? "light objects on a dark ground" : "dark objects on a light ground");
    printf("classes:      %d", i->num_classes);
    for (int k = 0; i->labels && k < i->num_classes && k < 20; k++) printf("%s%s", k ? ", " : ": ", i->labels[k]);
    printf("\n\n%4s %16s %14s %18s\n", "n", "MFLOP per image", "vs n = 1", "PyTorch accuracy");
    for (int k = 0; k < i->n_valid; k++) {
        printf("%4d %16.2f %13.3fx", i->valid_n[k], i->flops_per_image[k] / 1e6,
               i->flops_per_image[0] / i->flops_per_image[k]);
        if (i->reference_accuracy[k] >= 0) printf(" %17.2f%%\n", 100 * i->reference_accuracy[k]);
        else printf(" %18s\n", "-");
    }
    if (i->reference_images) printf("(PyTorch eval-mode accuracy on %d test images, from the exporter)\n", i->reference_images);
    mvk_model_destroy(m);
    mvk_ctx_destroy(ctx);
    return 0;
}
