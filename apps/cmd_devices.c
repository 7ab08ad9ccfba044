/* mimovk devices: every Vulkan device with the capabilities mimovk chooses kernels by. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "mimovk.h"

static void print_bytes(uint64_t b) {
    if (b >= (1ull << 30)) printf("%.1f GiB", (double)b / (1ull << 30));
    else printf("%.1f MiB", (double)b / (1ull << 20));
}

int cmd_devices(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: mimovk devices\n\nLists every Vulkan device. MIMOVK_DEVICE=<index or name> "
               "picks one for the other commands.\n");
        return 0;
    }
    mvk_device_info infos[16];
    int n = 0;
    mvk_status s = mvk_device_list(infos, 16, &n);
    if (s != MVK_OK) {
        fprintf(stderr, "mimovk devices: %s\n", mvk_status_str(s));
        return 1;
    }
    if (n == 0) {
        printf("no Vulkan devices\n");
        return 1;
    }
    for (int i = 0; i < n && i < 16; i++) {
        const mvk_device_info *d = &infos[i];
        printf("device %d: %s\n", d->index, d->name);
        printf("  type:                 %s\n", mvk_device_type_str(d->type));
        printf("  driver:               %s (%s)\n", d->driver_name[0] ? d->driver_name : "?",
               d->driver_info[0] ? d->driver_info : "?");
        printf("  Vulkan:               %u.%u.%u\n", d->api_version >> 22, (d->api_version >> 12) & 0x3ff,
               d->api_version & 0xfff);
        printf("  compute queue:        %s\n", d->has_compute ? "yes" : "no");
        printf("  fp16 arithmetic:      %s\n", d->fp16_arith ? "yes" : "no");
        printf("  16-bit storage:       %s\n", d->storage16 ? "yes" : "no");
        printf("  subgroup size:        %u\n", d->subgroup_size);
        printf("  push descriptors:     %s\n", d->push_descriptors ? "yes" : "no");
        printf("  kernel class:         %s\n", d->type == MVK_DEVICE_CPU ? "cpu (register-blocked)"
                                                                        : "gpu (shared-memory tiles)");
        printf("  workgroup:            %u invocations, %u x %u x %u\n", d->max_workgroup_invocations,
               d->max_workgroup_size[0], d->max_workgroup_size[1], d->max_workgroup_size[2]);
        printf("  shared memory:        %u bytes\n", d->max_shared_memory);
        printf("  storage buffer range: ");
        print_bytes(d->max_storage_buffer_range);
        printf("\n  max allocation:       ");
        print_bytes(d->max_alloc_size);
        printf("\n  memory:               %s\n", d->unified_memory ? "unified (mapped directly)"
                                                                  : "separate (staging copies)");
        for (uint32_t h = 0; h < d->heap_count; h++) {
            printf("  heap %u:               ", h);
            print_bytes(d->heap_size[h]);
            printf("%s\n", d->heap_device_local[h] ? ", device local" : "");
        }
    }
    return 0;
}
