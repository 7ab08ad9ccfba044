/* STUB: mimovk bench-kernels, to be written. */
#include <stdio.h>
#include "commands.h"
int cmd_bench_kernels(int argc, char **argv) {
    (void)argc; (void)argv;
    fprintf(stderr, "mimovk bench-kernels: not implemented yet\n");
    return 1;
}
