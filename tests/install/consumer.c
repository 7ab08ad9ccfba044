#include <mimovk.h>
#include <stdio.h>

int main(void) {
    mvk_device_info d[4];
    int n = 0;
    mvk_status s = mvk_device_list(d, 4, &n);
    printf("%s: %d device(s)\n", mvk_status_str(s), n);
    return s == MVK_OK || s == MVK_ERR_NO_VULKAN ? 0 : 1;
}
