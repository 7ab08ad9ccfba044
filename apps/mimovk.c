/* mimovk: the command line. Each subcommand lives in its own file (cmd_*.c). */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "mimovk.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} commands[] = {
    {"devices", cmd_devices, "list Vulkan devices and their capabilities"},
    {"info", cmd_info, "architecture, parameters, valid n and FLOPs per image of a model"},
    {"classify", cmd_classify, "labels with probabilities for PNG/JPEG images"},
    {"run", cmd_run, "logits for a preprocessed .npy batch"},
    {"eval", cmd_eval, "accuracy per n on an IDX test set"},
    {"bench", cmd_bench, "images/s per n (median of runs after warm-up)"},
    {"bench-kernels", cmd_bench_kernels, "GFLOP/s of the conv and GEMM kernels on WideResNet shapes"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: mimovk <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nmimovk <command> --help shows a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("mimovk %d.%d.%d\n", MVK_VERSION_MAJOR, MVK_VERSION_MINOR, MVK_VERSION_PATCH);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "mimovk: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
