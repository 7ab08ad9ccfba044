/* Helper of tests/cam/window.sh: cam_test_tool make-source DIR COUNT | tiny-model PATH | check-shot PNG */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testdata.h"
#include "tiny_model.h"

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "make-source")) return cam_test_make_source(argv[2], atoi(argv[3]), 4) ? 0 : 1;
    if (argc == 3 && !strcmp(argv[1], "tiny-model")) {
        tiny_init();
        tiny_write(argv[2], V_OK);
        return 0;
    }
    if (argc == 3 && !strcmp(argv[1], "check-shot")) {
        char why[256];
        bool ok = cam_test_check_shot(argv[2], why, sizeof why);
        printf("check-shot: %s: %s\n", ok ? "ok" : "FAILED", why);
        return ok ? 0 : 1;
    }
    fprintf(stderr, "usage: cam_test_tool make-source DIR COUNT | tiny-model PATH | check-shot PNG\n");
    return 2;
}
