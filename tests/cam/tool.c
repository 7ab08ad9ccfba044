/* Helper of tests/cam/window.sh:
 *   cam_test_tool make-source DIR COUNT   Fashion-MNIST frames as PNGs and a Y4M video
 *   cam_test_tool tiny-model PATH         the tests' tiny model
 *   cam_test_tool check-shot PNG          is the window's screenshot what it should be
 *   cam_test_tool close-window NAME       asks the window titled NAME to close (WM_DELETE_WINDOW),
 *                                         as a window manager's close button does */
#include <X11/Xlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testdata.h"
#include "tiny_model.h"

static Window find_window(Display *d, Window w, const char *name) {
    char *title = NULL;
    if (XFetchName(d, w, &title) && title) {
        bool same = !strcmp(title, name);
        XFree(title);
        if (same) return w;
    }
    Window root, parent, *kids = NULL, found = 0;
    unsigned int n = 0;
    if (XQueryTree(d, w, &root, &parent, &kids, &n))
        for (unsigned int i = 0; i < n && !found; i++) found = find_window(d, kids[i], name);
    if (kids) XFree(kids);
    return found;
}

static int close_window(const char *name) {
    Display *d = XOpenDisplay(NULL);
    if (!d) return fprintf(stderr, "close-window: cannot open the display\n"), 1;
    Window w = find_window(d, DefaultRootWindow(d), name);
    if (!w) {
        fprintf(stderr, "close-window: no window named %s\n", name);
        XCloseDisplay(d);
        return 1;
    }
    XEvent e;
    memset(&e, 0, sizeof e);
    e.xclient.type = ClientMessage;
    e.xclient.window = w;
    e.xclient.message_type = XInternAtom(d, "WM_PROTOCOLS", False);
    e.xclient.format = 32;
    e.xclient.data.l[0] = (long)XInternAtom(d, "WM_DELETE_WINDOW", False);
    e.xclient.data.l[1] = CurrentTime;
    XSendEvent(d, w, False, NoEventMask, &e);
    XFlush(d);
    XCloseDisplay(d);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "close-window")) return close_window(argv[2]);
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
    fprintf(stderr, "usage: cam_test_tool make-source DIR COUNT | tiny-model PATH | check-shot PNG | close-window NAME\n");
    return 2;
}
