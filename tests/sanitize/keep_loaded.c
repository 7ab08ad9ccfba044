/* Linked into every executable of a sanitizer build (cmake -DMIMOVK_SANITIZE=ON), never into the
 * library. The Vulkan loader dlcloses the driver in vkDestroyInstance, and with it libX11, which
 * lavapipe's window-system code pulls in. Memory that libX11 still points to from its globals then
 * has no pointer left once the library is unmapped, so LeakSanitizer reports it at exit as a
 * leak in "<unknown module>", which no suppression can name. Keeping every library loaded until
 * exit keeps those globals scanned: what they hold is not reported, and a real leak still is.
 * The executable's definition wins the symbol lookup over libc's because the link exports it
 * (--export-dynamic-symbol=dlclose). */
#include <dlfcn.h>

int dlclose(void *handle)
{
    (void)handle;
    return 0;
}
